// The long-lived shim process: wires the reactor, the reaper, the ttrpc server, the event
// publisher and the Task service, then runs until Shutdown.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/unique_fd.h"
#include "shim/flags.h"

namespace shim {

struct DaemonOptions {
  ShimFlags flags;
  std::string bundle;
  std::string socket_path;
  pid_t containerd_pid = 0;  // the parent of `start`: the shim's OOM score follows it
};

// Returns the process exit code.
int run_daemon(DaemonOptions options, UniqueFd listener);

}  // namespace shim
