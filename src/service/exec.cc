// Exec: a second process inside a running container's sandbox, started through the sandbox's
// control socket (exec_in_sandbox.cc) or, where that cannot serve, through `runsc exec`.
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/log.h"
#include "process/ids.h"
#include "service/task_service.h"

namespace shim {

namespace ev = pb::containerd::events;

namespace {

// runsc takes the terminal from the process spec; containerd's client sends the container's
// spec.Process with the request's terminal flag beside it (runc's shim copies it in, too).
// True when that changed the spec.
bool set_terminal(nlohmann::json& process, bool terminal) {
  auto current = process.find("terminal");
  bool now = current != process.end() && current->is_boolean() && current->get<bool>();
  if (now == terminal) return false;
  process["terminal"] = terminal;
  return true;
}

}  // namespace

Task<Result<Empty>> TaskService::exec(task::ExecProcessRequest req, ttrpc::CallContext) {
  if (auto r = validate_id(req.exec_id, "exec id"); !r) co_return std::move(r).error();
  auto c = find_container(req.id);
  if (!c) co_return std::move(c).error();
  auto& container = *c;
  if (container->execs.contains(req.exec_id)) {
    co_return Error(Code::kAlreadyExists,
                    str_cat("exec ", req.exec_id, " already exists in ", req.id));
  }
  if (container->init->state != ProcessState::kRunning) {
    co_return Error(
        Code::kFailedPrecondition,
        str_cat("cannot exec in a ", state_name(container->init->state), " container ", req.id));
  }
  if (!req.spec || req.spec->value.empty()) {
    co_return Error(Code::kInvalidArgument, str_cat("exec ", req.exec_id, ": no process spec"));
  }
  auto process = nlohmann::json::parse(req.spec->value, nullptr, /*allow_exceptions=*/false);
  if (process.is_discarded() || !process.is_object()) {
    co_return Error(Code::kInvalidArgument,
                    str_cat("exec ", req.exec_id, ": process spec is not a JSON object"));
  }
  bool changed = set_terminal(process, req.terminal);
  changed = co_await drop_unknown_capabilities(*container, process) || changed;
  // Re-check after the await: a concurrent Exec may have taken the id meanwhile.
  if (container->execs.contains(req.exec_id)) {
    co_return Error(Code::kAlreadyExists,
                    str_cat("exec ", req.exec_id, " already exists in ", req.id));
  }
  auto p = std::make_shared<Process>();
  p->exec_id = req.exec_id;
  p->stdio = io::StdioConfig{req.stdin,    req.stdout,        req.stderr,
                             req.terminal, container->io_uid, container->io_gid};
  p->spec_json = changed ? process.dump() : req.spec->value;  // the OCI Process, as JSON
  container->execs[req.exec_id] = p;

  ev::TaskExecAdded event;
  event.container_id = req.id;
  event.exec_id = req.exec_id;
  events_.exec_added(event);
  co_return Empty{};
}

Task<Result<task::StartResponse>> TaskService::start_exec(std::shared_ptr<Container> c,
                                                          std::shared_ptr<Process> p) {
  if (c->init->state != ProcessState::kRunning) {
    co_return Error(Code::kFailedPrecondition,
                    str_cat("cannot exec in a ", state_name(c->init->state), " container"));
  }
  // The shim makes the terminal of an exec it starts itself; runsc makes its own.
  auto maker = c->direct_exec ? io::TerminalMaker::kShim : io::TerminalMaker::kRunsc;
  auto opened = io::ProcessIo::open(ctx_.reactor, ctx_.reaper, p->stdio, ctx_.ns, c->id, maker);
  if (!opened) co_return std::move(opened).error();
  p->io = std::move(*opened);

  Result<void> started = Error(Code::kInternal, "exec not started");
  if (c->direct_exec) {
    started = co_await start_exec_in_sandbox(c, p);
    if (!started && started.error().code() == Code::kUnimplemented) {
      // This sandbox does not serve the request as we make it: its runsc can, for good.
      log::warn("exec in ", c->id, " through its control socket: ", started.error().message(),
                "; using runsc exec for this sandbox from now on");
      c->direct_exec = false;
      if (p->stdio.terminal) {
        auto again = io::ProcessIo::open(ctx_.reactor, ctx_.reaper, p->stdio, ctx_.ns, c->id);
        if (!again) co_return std::move(again).error();
        p->io = std::move(*again);
      }
    }
  }
  if (!c->direct_exec) started = co_await start_exec_with_runsc(c, p);
  if (!started) {
    p->io.reset();
    co_return std::move(started).error();
  }
  if (auto r = co_await p->io->attach(); !r) {
    (void)co_await signal_exec(*c, *p, SIGKILL);
    co_return std::move(r).error();
  }
  if (auto r = p->apply(ProcessEvent::kStart); !r) co_return std::move(r).error();

  ev::TaskExecStarted event;
  event.container_id = c->id;
  event.exec_id = p->exec_id;
  event.pid = static_cast<uint32_t>(p->pid);
  events_.exec_started(event);
  task::StartResponse resp;
  resp.pid = static_cast<uint32_t>(p->pid);
  co_return resp;
}

Task<Result<void>> TaskService::start_exec_with_runsc(std::shared_ptr<Container> c,
                                                      std::shared_ptr<Process> p) {
  // runsc reads the process spec and writes the pids into files; they live in the bundle
  // only for the duration of the call.
  std::string base = str_cat(c->bundle, "/exec-", p->exec_id);
  std::string spec_file = base + ".json", pid_file = base + ".pid", internal_file = base + ".ipid";
  if (auto r = write_file_atomic(spec_file, p->spec_json, 0600); !r) co_return std::move(r).error();
  RunscStdio stdio{p->io->child_stdin(), p->io->child_stdout(), p->io->child_stderr()};
  auto pids = co_await c->runsc->exec(c->id, spec_file, pid_file, internal_file, stdio,
                                      p->io->console_socket());
  ::unlink(spec_file.c_str());
  ::unlink(pid_file.c_str());
  ::unlink(internal_file.c_str());
  if (!pids) co_return std::move(pids).error();
  p->host_pid = pids->waiter;
  p->internal_pid = pids->internal;
  p->pid = pids->internal;
  // Watched since its spawn: a process that is already done is handled at once (its exit
  // waits for this Start to finish before it is published).
  pids->exited.then([this, c, p](ExitStatus status) {
    // `runsc exec` exits 128 when its wait failed: its sandbox died, and the process with it,
    // killed, as an exec in the sandbox is reported (and runc's are).
    if (status.code == 128 && !sandbox_alive(*c)) status.code = 128 + SIGKILL;
    spawn(handle_exit(c, p, status));
  });
  co_return ok();
}

bool TaskService::sandbox_alive(const Container& c) const {
  auto pod = containers_.find(c.sandbox_id);
  const Container& sandbox = pod == containers_.end() ? c : *pod->second;
  pid_t pid = sandbox.init->host_pid;
  if (sandbox.init->exit || pid <= 0) return false;
  // Until we reap it, a dead sandbox is a zombie: its state in /proc/<pid>/stat says so.
  auto stat = read_file(str_cat("/proc/", pid, "/stat"));
  if (!stat) return false;
  size_t paren = stat->rfind(')');
  return paren != std::string::npos && paren + 2 < stat->size() && (*stat)[paren + 2] != 'Z';
}

}  // namespace shim
