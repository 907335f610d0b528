// Fuzzes the shim's server, not only its decoders: a script of client actions (frames written
// on one or more connections, the reactor run, connections closed; task_server_script.h) is
// played against the real ttrpc server and Task service on the real reactor. So the order of
// calls, calls that park (a Wait on a running container), a frame that arrives mid-call and
// connections that go away with calls parked are fuzzed too. runsc is fake_runsc.sh, which
// answers at once; most inputs never start it, and those that Create and Start a container
// (the seeds captured from containerd do) get a sandbox that Wait, Kill and Delete act on.
//
// After every input nothing may be left: no container, no child process, no fd (counted
// around each input), no memory or parked coroutine (LSan).
#include <dirent.h>
#include <ftw.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "shim_under_fuzz.h"
#include "task_server_script.h"

namespace {

using shim::fuzz::Scratch;

Scratch g_scratch;

int remove_entry(const char* path, const struct stat*, int, FTW*) { return ::remove(path); }

void remove_tree(const std::string& path) {
  ::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

// The scratch dir as an input finds it: the TOML, and empty dirs for bundles and runsc state.
void reset_scratch() {
  remove_tree(g_scratch.dir + "/bundles");
  remove_tree(g_scratch.dir + "/state");
  ::unlink(g_scratch.paths.stdout_file.c_str());
  ::unlink(g_scratch.paths.stderr_file.c_str());
  ::mkdir(g_scratch.paths.bundles.c_str(), 0700);
}

void remove_scratch() { remove_tree(g_scratch.dir); }

long open_fds() {
  long n = 0;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return -1;
  while (dirent* entry = ::readdir(dir)) n += entry->d_name[0] != '.';
  ::closedir(dir);
  return n - 1;  // the one opendir holds
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // As the daemon: the fake sandboxes are reparented to us when the fake runsc exits, and a
  // peer that hangs up must not kill us.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::signal(SIGPIPE, SIG_IGN);
  // The reaper reads SIGCHLD from a signalfd, which sees it only while no thread takes it.
  // libFuzzer starts its RSS thread after this: blocked here, SIGCHLD is blocked there too
  // (otherwise that thread swallows it and an exit is noticed only by chance, a second late).
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  ::sigprocmask(SIG_BLOCK, &chld, nullptr);
  if (!std::getenv("FUZZ_TASK_SERVER_LOG")) shim::log::set_output(-1);
  shim::log::set_level(shim::log::Level::kDebug);

  char dir[] = "/tmp/fuzz-task-server.XXXXXX";
  if (!::mkdtemp(dir)) shim::fuzz::report_finding("mkdtemp");
  g_scratch.dir = dir;
  g_scratch.task_socket = g_scratch.dir + "/task.sock";
  g_scratch.events_socket = g_scratch.dir + "/events.sock";
  g_scratch.paths.shim_toml = g_scratch.dir + "/runsc.toml";
  g_scratch.paths.bundles = g_scratch.dir + "/bundles";
  g_scratch.paths.stdout_file = g_scratch.dir + "/stdout";
  g_scratch.paths.stderr_file = g_scratch.dir + "/stderr";
  // runsc exec, not the sandbox's control socket: the fake sandbox has none.
  std::string toml = shim::str_cat("binary_name = \"", FAKE_RUNSC, "\"\nroot = \"", g_scratch.dir,
                                   "/state\"\ndirect_exec = false\n");
  if (!shim::write_file_atomic(g_scratch.paths.shim_toml, toml, 0600)) {
    shim::fuzz::report_finding("write the shim TOML");
  }
  reset_scratch();
  std::atexit(remove_scratch);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(bytes), size);
  // Counted around the input alone: libFuzzer opens fds of its own between inputs (the pipes
  // to llvm-symbolizer when it prints a new function).
  long fds_before = open_fds();
  {
    shim::fuzz::ShimUnderFuzz shim(g_scratch);
    for (const shim::fuzz::Action& action : shim::fuzz::parse_script(input)) shim.run(action);
  }
  reset_scratch();
  if (long fds = open_fds(); fds != fds_before) {
    shim::fuzz::report_finding(
        shim::str_cat(fds, " fds open after this input, ", fds_before, " before it"));
  }
  return 0;
}
