// Execs without a runsc process: started, waited on and signalled through the sandbox's
// control socket, as `runsc exec` itself does it, with the shim holding the stdio (and making
// the terminal). While an exec runs, the shim holds one connection (its WaitPID) and nothing
// else: no host process per exec.
#include <fcntl.h>
#include <signal.h>

#include "base/log.h"
#include "runsc/control.h"
#include "runsc/control_requests.h"
#include "service/task_service.h"

namespace shim {
namespace {

// How long a request that is not a wait may take: the sandbox answers in a few ms.
constexpr std::chrono::milliseconds kStartLimit{30000};

// A reply that says this sandbox does not speak our requests (another runsc's API), as
// opposed to a request it refused (a missing binary, a bad cwd): the first means falling
// back to `runsc exec`.
bool is_api_mismatch(const Error& e) {
  const std::string& m = e.message();
  return m.find("unknown method") != std::string::npos ||
         m.find("json: cannot unmarshal") != std::string::npos ||
         m.find("does not match length of file descriptor array") != std::string::npos;
}

bool flag_is_true(const ShimConfig& config, std::string_view name) {
  for (const auto& [key, value] : config.runsc_flags) {
    if (key == name) return value == "true";
  }
  return false;
}

}  // namespace

Task<Result<void>> TaskService::start_exec_in_sandbox(std::shared_ptr<Container> c,
                                                      std::shared_ptr<Process> p) {
  auto socket = connect_sandbox_control(c->runsc->state_root(), c->sandbox_id);
  if (!socket) co_return Error(Code::kUnimplemented, socket.error().message());
  auto process = nlohmann::json::parse(p->spec_json, nullptr, /*allow_exceptions=*/false);
  ExecTarget target;
  target.container_id = c->id;
  target.default_cwd = string_field(c->exec_defaults, "cwd");
  target.default_capabilities = c->exec_defaults.value("capabilities", nlohmann::json());
  target.features = co_await runsc_features(*c->runsc);
  target.net_raw = flag_is_true(c->runsc->config(), "net-raw");
  process["terminal"] = p->stdio.terminal;
  auto request = execute_async_request(process, target);
  if (!request) co_return std::move(request).error();

  // The sandbox dups what it keeps; ours close when this returns. /dev/null for what the
  // client did not ask for, as runsc gives its own.
  UniqueFd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null_fd) co_return errno_error("open /dev/null");
  std::vector<int> fds;
  for (int fd : {p->io->child_stdin(), p->io->child_stdout(), p->io->child_stderr()}) {
    fds.push_back(fd >= 0 ? fd : null_fd.get());
  }
  auto started = co_await control_call(ctx_.reactor, *socket, std::move(*request), std::move(fds),
                                       kStartLimit);
  if (!started) {
    if (is_api_mismatch(started.error())) {
      co_return Error(Code::kUnimplemented, started.error().message());
    }
    co_return std::move(started).error().wrap("exec in the sandbox");
  }
  auto pid = parse_exec_pid(*started);
  if (!pid) co_return Error(Code::kUnimplemented, pid.error().message());
  p->pid = p->internal_pid = *pid;
  p->in_sandbox = true;
  log::debug("exec ", p->exec_id, " in ", c->id, ": pid ", *pid, " in the sandbox");
  // Asked at once: only the first WaitPID of a pid gets its status, and it is ours.
  spawn(wait_exec_in_sandbox(c, p));
  co_return ok();
}

Task<void> TaskService::wait_exec_in_sandbox(std::shared_ptr<Container> c,
                                             std::shared_ptr<Process> p) {
  Result<ExitStatus> status = Error(Code::kUnavailable, "not waited");
  if (auto socket = connect_sandbox_control(c->runsc->state_root(), c->sandbox_id)) {
    auto result =
        co_await control_call(ctx_.reactor, *socket, wait_pid_request(c->id, p->internal_pid));
    status = result ? parse_wait_status(*result) : Result<ExitStatus>(std::move(result).error());
  } else {
    status = std::move(socket).error();
  }
  if (!status) {
    // The sandbox went away under it: the exec died with it, as runc's do with their init.
    log::info("exec ", p->exec_id, " in ", c->id, ": ", status.error().message());
    status = ExitStatus::now(128 + SIGKILL);
  }
  co_await handle_exit(c, p, *status);
}

Task<Result<void>> TaskService::signal_exec(Container& c, Process& p, int signal) {
  if (!p.in_sandbox) co_return co_await c.runsc->kill(c.id, signal, false, p.internal_pid);
  co_return co_await signal_in_sandbox(c, p.internal_pid, signal, SignalTarget::kProcess);
}

Task<Result<void>> TaskService::signal_in_sandbox(Container& c, pid_t pid, int signal,
                                                  SignalTarget target) {
  auto socket = connect_sandbox_control(c.runsc->state_root(), c.sandbox_id);
  if (!socket) co_return std::move(socket).error();
  auto result = co_await control_call(ctx_.reactor, *socket,
                                      signal_request(c.id, pid, signal, target), {}, kStartLimit);
  if (!result) co_return std::move(result).error().wrap(str_cat("signal ", signal));
  co_return ok();
}

}  // namespace shim
