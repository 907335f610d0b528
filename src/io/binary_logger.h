// A binary:// logger (containerd's runtime/v2/logging contract): the binary reads the
// container's stdout on fd 3 and stderr on fd 4, closes fd 5 once it is ready, and gets
// CONTAINER_ID and CONTAINER_NAMESPACE as its only environment. The shim copies nothing.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string_view>

#include "base/error.h"
#include "base/unique_fd.h"
#include "io/stdio_uri.h"
#include "reactor/child_reaper.h"
#include "reactor/reactor.h"

namespace shim::io {

class BinaryLogger {
 public:
  // Starts the logger and watches its exit. The write ends of its two pipes are for the child
  // (runsc); `ready` becomes readable (EOF) once the logger closed fd 5 or died.
  static Result<std::unique_ptr<BinaryLogger>> start(Reactor& reactor, ChildReaper& reaper,
                                                     const StdioUri& uri, std::string_view ns,
                                                     std::string_view id);
  // Does not wait: the logger sees EOF once every writer is gone and exits by itself; if it is
  // still running after a grace period it is killed. Reaping stays with the ChildReaper.
  ~BinaryLogger();

  pid_t pid() const { return pid_; }
  UniqueFd& stdout_w() { return stdout_w_; }
  UniqueFd& stderr_w() { return stderr_w_; }
  UniqueFd& ready() { return ready_r_; }

  static constexpr std::chrono::milliseconds kGrace{10000};

 private:
  struct Life {
    Reactor* reactor;
    pid_t pid;
    bool exited = false;
    Reactor::TimerId kill_timer = 0;
  };

  BinaryLogger(pid_t pid, std::shared_ptr<Life> life) : pid_(pid), life_(std::move(life)) {}

  pid_t pid_;
  std::shared_ptr<Life> life_;
  UniqueFd stdout_w_;
  UniqueFd stderr_w_;
  UniqueFd ready_r_;
};

}  // namespace shim::io
