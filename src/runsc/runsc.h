// Drives the runsc CLI for one sandbox on the reactor: every call is a child process awaited
// with a deadline (a hung runsc is SIGKILLed, never waited on forever), and a failure carries
// the message runsc wrote to log.json during that call.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "reactor/command.h"
#include "reactor/task.h"
#include "runsc/config.h"
#include "runsc/features.h"
#include "runsc/output.h"

namespace shim {

// The container's stdio as fds in the shim (not owned); -1 means /dev/null.
struct RunscStdio {
  int in = -1;
  int out = -1;
  int err = -1;
};

struct RunscTimeouts {
  std::chrono::milliseconds slow{std::chrono::minutes(2)};     // create, restore, checkpoint
  std::chrono::milliseconds medium{std::chrono::seconds(60)};  // start, exec, delete
  std::chrono::milliseconds quick{std::chrono::seconds(30)};   // state, kill, ps, pause, ...
};

struct RunscExecPids {
  pid_t waiter = 0;            // host pid of the `runsc exec`: it exits with the process's status
  pid_t internal = 0;          // pid inside the sandbox, for `kill --pid`
  Oneshot<ExitStatus> exited;  // the waiter's exit, watched from its spawn on
};

class Runsc {
 public:
  // `state_root` is runsc's --root (see runsc_argv::sandbox_state_root), created 0711 on first
  // use; `log_path` is runsc's --log, normally `<bundle>/log.json`.
  Runsc(CommandRunner& runner, ShimConfig config, std::string state_root, std::string log_path,
        RunscTimeouts timeouts = {});

  // The usual wiring: root `<config.root>/<ns>/<sandbox id>`, log `<bundle>/log.json`.
  static Result<Runsc> for_sandbox(CommandRunner& runner, ShimConfig config, std::string_view ns,
                                   std::string_view sandbox_id, std::string_view bundle,
                                   RunscTimeouts timeouts = {});

  // Returns the pid in `pid_file`: the sandbox process for a root container. runsc's own
  // stdio is the container's (the sandbox inherits it), so only runsc's exit is awaited.
  Task<Result<pid_t>> create(std::string id, std::string bundle, std::string pid_file,
                             RunscStdio stdio, std::string console_socket = {});
  Task<Result<void>> start(std::string id);
  // An app container in a pod's sandbox takes its stdio from `runsc start`, not `create`
  // (measured: the fds given to create are never used for a subcontainer).
  Task<Result<void>> start(std::string id, RunscStdio stdio);
  Task<Result<RunscState>> state(std::string id);
  Task<Result<void>> kill(std::string id, int signal, bool all = false,
                          std::optional<pid_t> pid = std::nullopt);
  Task<Result<void>> remove(std::string id, bool force);  // `runsc delete`
  Task<Result<std::vector<pid_t>>> ps(std::string id);
  Task<Result<void>> pause(std::string id);
  Task<Result<void>> resume(std::string id);
  // Starts a process in container `id` (`process_json`: a file holding the OCI Process) and
  // returns once it runs. Without a terminal runsc stays in the foreground as its waiter;
  // `--detach` would only start a second runsc to do that and poll for it (measured: ready
  // after 104-119 ms, against 49-63 ms in the foreground). Its pid file, written once the
  // process runs, says when. With a terminal (`console_socket`), `--detach` it is.
  Task<Result<RunscExecPids>> exec(std::string id, std::string process_json, std::string pid_file,
                                   std::string internal_pid_file, RunscStdio stdio,
                                   std::string console_socket = {});
  Task<Result<void>> checkpoint(std::string id, std::string image_path, bool leave_running);
  // Like create, from a checkpoint image; returns the pid in `pid_file`.
  Task<Result<pid_t>> restore(std::string id, std::string bundle, std::string image_path,
                              std::string pid_file, RunscStdio stdio,
                              std::string console_socket = {});
  // What `runsc --version` says this binary is; the newest behaviour when it says nothing
  // readable or cannot run.
  Task<RunscFeatures> features();
  // The JSON text of `runsc events --stats`.
  Task<Result<std::string>> events_stats(std::string id);
  // Blocks (in a `runsc wait` child) until container `id` exits; its exit code, or 128 + signal.
  // Only for app containers inside a pod's sandbox: a sandbox's own root container is reaped.
  Task<Result<int>> wait(std::string id);

  const std::string& state_root() const { return state_root_; }
  const std::string& log_path() const { return log_path_; }
  const ShimConfig& config() const { return config_; }

 private:
  // Build a Call as a named local: GCC 12 destroys a braced temporary written inside a
  // co_await expression twice (measured: a crash in ~vector).
  struct Call {
    std::string_view name;  // the subcommand, for messages
    std::vector<std::string> args;
    std::chrono::milliseconds timeout;
    RunscStdio stdio;
    bool capture_stdout = false;
    // Whether runsc's stderr is ours to read (not the container's).
    bool capture_stderr = true;
  };

  // `runsc exec --detach`: for a terminal, which only that mode creates.
  Task<Result<RunscExecPids>> exec_detached(std::string id, std::string process_json,
                                            std::string pid_file, std::string internal_pid_file,
                                            RunscStdio stdio, std::string console_socket);
  // Runs one runsc call; any failure (spawn, timeout, non-zero exit) becomes an Error.
  Task<Result<std::string>> run(Call call);
  // The same, for calls whose output does not matter.
  Task<Result<void>> run_status(Call call);
  Result<void> ensure_state_root();

  CommandRunner& runner_;
  ShimConfig config_;
  std::string state_root_;
  std::string log_path_;
  RunscTimeouts timeouts_;
  bool state_root_ready_ = false;
};

}  // namespace shim
