// The one owner of waitpid. The shim is a child subreaper, so every descendant that loses its
// parent (the sandbox, the gofer, runsc-exec waiters) is reaped here and never left a zombie.
#pragma once

#include <sys/types.h>
#include <time.h>

#include <deque>
#include <functional>
#include <unordered_map>

#include "base/error.h"
#include "base/unique_fd.h"
#include "reactor/reactor.h"
#include "reactor/task.h"

namespace shim {

struct ExitStatus {
  int code = 0;   // exit code, or 128 + signal for a killed process (as a shell reports it)
  timespec at{};  // wall clock time of the reap

  static ExitStatus from_wait_status(int status);
  // An exit learned of some other way than reaping (runsc wait, a forced removal), now.
  static ExitStatus now(int code);
};

class ChildReaper {
 public:
  using ExitCallback = std::function<void(ExitStatus)>;

  // Blocks SIGCHLD for the process and reads it from a signalfd on `reactor`.
  static Result<std::unique_ptr<ChildReaper>> create(Reactor& reactor);
  ~ChildReaper();

  // Calls `callback` once when `pid` exits. If it already exited and nobody claimed it yet
  // (a pid read from a pid file after the fact), the callback runs on the next loop turn.
  void on_exit(pid_t pid, ExitCallback callback);
  // The same, for a coroutine.
  Oneshot<ExitStatus> exited(pid_t pid);
  // Forgets a watch (the status, if it comes, is dropped into the unclaimed list).
  void forget(pid_t pid);
  bool watching(pid_t pid) const { return watches_.contains(pid); }

  // Reaps whatever is ready now; also called for every SIGCHLD.
  void reap_ready();

 private:
  ChildReaper(Reactor& reactor, UniqueFd signal_fd)
      : reactor_(reactor), signal_fd_(std::move(signal_fd)) {}

  // Exits nobody watched yet; bounded so reparented strays (gofers) cannot grow it forever.
  static constexpr size_t kMaxUnclaimed = 256;

  Reactor& reactor_;
  UniqueFd signal_fd_;
  std::unordered_map<pid_t, ExitCallback> watches_;
  std::deque<std::pair<pid_t, ExitStatus>> unclaimed_;
};

}  // namespace shim
