#include "base/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include "base/strings.h"

extern char** environ;

namespace shim {
namespace {

class SpawnActions {
 public:
  SpawnActions() { posix_spawn_file_actions_init(&a_); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&a_); }
  posix_spawn_file_actions_t* get() { return &a_; }

  void stdio(int fd, int target) {
    if (fd < 0) {
      posix_spawn_file_actions_addopen(&a_, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY,
                                       0);
    } else {
      // dup2 onto itself would keep CLOEXEC; glibc clears it in that case.
      posix_spawn_file_actions_adddup2(&a_, fd, target);
    }
  }

 private:
  posix_spawn_file_actions_t a_;
};

class SpawnAttr {
 public:
  SpawnAttr() { posix_spawnattr_init(&a_); }
  ~SpawnAttr() { posix_spawnattr_destroy(&a_); }
  posix_spawnattr_t* get() { return &a_; }

 private:
  posix_spawnattr_t a_;
};

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

Result<pid_t> spawn_process(const SpawnOptions& options) {
  if (options.argv.empty()) return Error(Code::kInvalidArgument, "spawn: empty argv");
  SpawnActions actions;
  actions.stdio(options.stdin_fd, 0);
  actions.stdio(options.stdout_fd, 1);
  actions.stdio(options.stderr_fd, 2);
  for (auto [fd, target] : options.extra_fds)
    posix_spawn_file_actions_adddup2(actions.get(), fd, target);
  if (!options.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(actions.get(), options.cwd.c_str());
  }

  SpawnAttr attr;
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGCHLD);
  posix_spawnattr_setsigmask(attr.get(), &empty);
  posix_spawnattr_setsigdefault(attr.get(), &defaults);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (options.new_session) flags |= POSIX_SPAWN_SETSID;
  posix_spawnattr_setflags(attr.get(), flags);

  auto argv = c_strings(options.argv);
  std::vector<char*> envp;
  if (options.env) envp = c_strings(*options.env);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0], actions.get(), attr.get(), argv.data(),
                        options.env ? envp.data() : environ);
  if (rc != 0) return errno_error(str_cat("start ", options.argv[0]), rc);
  return pid;
}

std::string join_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out.push_back(' ');
    out.append(a);
  }
  return out;
}

}  // namespace shim
