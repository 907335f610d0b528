// Runs a short-lived command to completion on the reactor: its exit status, its captured
// stdout, and a deadline after which it is killed, so a hung child never hangs the shim.
#pragma once

#include <chrono>
#include <string>

#include "base/spawn.h"
#include "reactor/child_reaper.h"
#include "reactor/reactor.h"
#include "reactor/task.h"

namespace shim {

struct CommandResult {
  ExitStatus exit;
  std::string stdout_data;  // empty unless capture_stdout
  bool timed_out = false;
};

struct CommandOptions {
  SpawnOptions spawn;
  std::chrono::milliseconds timeout{30000};
  // Stdout is read through a pipe until the command exits (not until EOF: a daemon it
  // leaves behind may hold the pipe open forever).
  bool capture_stdout = false;
};

class CommandRunner {
 public:
  CommandRunner(Reactor& reactor, ChildReaper& reaper) : reactor_(reactor), reaper_(reaper) {}

  Task<Result<CommandResult>> run(CommandOptions options);

  Reactor& reactor() { return reactor_; }
  ChildReaper& reaper() { return reaper_; }

 private:
  Reactor& reactor_;
  ChildReaper& reaper_;
};

}  // namespace shim
