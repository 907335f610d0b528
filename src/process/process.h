// One process the shim answers for: a container's init (the sandbox) or an exec inside it.
// Shared by pointer so a handler parked on it survives a concurrent Delete.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "io/process_io.h"
#include "process/state_machine.h"
#include "reactor/child_reaper.h"
#include "reactor/task.h"

namespace shim {

struct Process {
  std::string exec_id;  // empty for the init
  io::StdioConfig stdio;
  ProcessState state = ProcessState::kCreated;
  pid_t pid = 0;           // reported to containerd
  pid_t host_pid = 0;      // what the reaper watches: the sandbox, or the runsc-exec waiter
  pid_t internal_pid = 0;  // pid inside the sandbox (exec), for `runsc kill --pid`
  // An exec started through the sandbox's control socket: no host process of its own; waited
  // on, signalled and resized through the socket.
  bool in_sandbox = false;
  std::string spec_json;  // exec only: the OCI Process from ExecProcessRequest
  std::unique_ptr<io::ProcessIo> io;

  // A Start in flight: an exit that arrives meanwhile waits for it, so containerd always
  // sees /tasks/start before /tasks/exit.
  bool starting = false;
  Oneshot<bool> start_finished;

  // A checkpoint that leaves the container running replaces its sandbox: the old one's exit
  // lands here instead of ending the process.
  bool replacing = false;
  Oneshot<ExitStatus> replaced_exit;

  std::optional<ExitStatus> exit;      // set once reaped
  Oneshot<ExitStatus> exit_published;  // set after /tasks/exit is queued: Wait returns then
  // A process that will never run (an exec whose Start failed, or one deleted unstarted; a
  // container deleted before it had a sandbox): containerd waits on a process before it
  // starts it and never cancels that call, so Wait ends here too.
  Oneshot<bool> never_ran;

  bool is_init() const { return exec_id.empty(); }
  // Result<void> of moving the state machine, applied only when legal.
  Result<void> apply(ProcessEvent event) {
    auto next = next_state(state, event);
    if (!next) return std::move(next).error();
    state = *next;
    return ok();
  }
};

}  // namespace shim
