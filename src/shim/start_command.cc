#include "shim/start_command.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>

#include "base/file.h"
#include "base/leak_check.h"
#include "base/strings.h"
#include "cgroups/named_cgroup.h"
#include "process/bundle_spec.h"
#include "process/ids.h"
#include "service/runtime_options.h"
#include "shim/daemon.h"
#include "shim/socket_address.h"

namespace shim {
namespace {

// Containerd reads our stdout and stderr as one stream and dials whatever it finds there;
// failures go to stderr as one line, which containerd puts in its error.
int fail(const Error& error) {
  std::fprintf(stderr, "containerd-shim-runsc-v1 start: %s\n", error.message().c_str());
  return 1;
}

Result<std::string> working_directory() {
  char buf[PATH_MAX];
  if (!::getcwd(buf, sizeof buf)) return errno_error("getcwd");
  return std::string(buf);
}

// Write `address` and print it: the only bytes containerd may see on stdout.
int announce(const std::string& bundle, const std::string& address) {
  if (auto r = write_file_atomic(bundle + "/address", address); !r) return fail(r.error());
  std::fputs(address.c_str(), stdout);
  std::fputc('\n', stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

// Makes the calling process the daemon: its own session, stdio on /dev/null, so containerd's
// pipe closes when `start` exits.
void detach_stdio() {
  ::setsid();
  // Nothing inherited from containerd (or whoever ran `start`) stays open but the listener,
  // which the caller moved to fd 3.
  ::close_range(4, ~0U, 0);
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    if (null_fd > 2) ::close(null_fd);
  }
}

// containerd writes the task's options (an encoded Any) to our stdin and closes it; run by
// hand, stdin may be a terminal or a pipe nobody writes to, so the wait for EOF is bounded.
Result<RuntimeOptions> read_start_options() {
  if (::isatty(STDIN_FILENO)) return RuntimeOptions{};
  std::string data;
  char buf[4096];
  while (true) {
    pollfd pfd{STDIN_FILENO, POLLIN, 0};
    int ready = ::poll(&pfd, 1, 2000);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  if (data.empty()) return RuntimeOptions{};
  pb::google::protobuf::Any any;
  if (!any.decode(data)) return Error(Code::kInvalidArgument, "malformed options on stdin");
  return decode_runtime_options(any);
}

}  // namespace

int run_start_command(const ShimFlags& flags) {
  if (auto r = validate_id(flags.id, "id"); !r) return fail(r.error());
  if (auto r = validate_id(flags.ns, "namespace"); !r) return fail(r.error());
  auto bundle = working_directory();
  if (!bundle) return fail(bundle.error());

  // One shim per pod: an app container is served by the shim of its pod's sandbox.
  std::string group = flags.id;
  if (auto spec = read_bundle_spec(*bundle); spec && spec->joins_sandbox(flags.id)) {
    if (auto r = validate_id(spec->sandbox_id, "sandbox id"); !r) return fail(r.error());
    group = spec->sandbox_id;
  }
  std::string address = socket_address(flags.address, flags.ns, group);
  std::string path = socket_path(address);
  if (socket_is_live(path)) return announce(*bundle, address);  // a shim already serves it

  auto task_options = read_start_options();
  if (!task_options) return fail(task_options.error());
  auto listener = listen_unix(path);
  if (!listener) return fail(listener.error());

  DaemonOptions options{flags, *bundle, path, ::getppid()};
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) {
    ::unlink(path.c_str());
    return fail(errno_error("fork"));
  }
  if (pid == 0) {
    if (listener->get() != 3) {
      ::dup3(listener->get(), 3, O_CLOEXEC);
      listener->reset(3);
    }
    detach_stdio();
    int code = run_daemon(std::move(options), std::move(*listener));
    check_for_leaks();  // _exit skips the sanitizer's own check at exit
    ::_exit(code);
  }
  listener->reset();
  // As runc's shim does: the daemon, not this short-lived process, joins the cgroup.
  if (!task_options->shim_cgroup.empty()) {
    if (auto r = move_into_cgroup(pid, task_options->shim_cgroup); !r) {
      ::kill(pid, SIGKILL);
      ::unlink(path.c_str());
      return fail(r.error().wrap("shim cgroup"));
    }
  }
  if (auto r = write_file_atomic(*bundle + "/shim.pid", std::to_string(pid)); !r) {
    return fail(r.error());
  }
  return announce(*bundle, address);
}

}  // namespace shim
