#include "service/task_service.h"

#include <unistd.h>

#include "base/log.h"
#include "shim/version.h"

namespace shim {

namespace types = pb::containerd::v1::types;

TaskService::TaskService(ServiceContext context)
    : ctx_(std::move(context)), events_(ctx_.publisher, ctx_.ns) {}

void TaskService::register_methods(ttrpc::Server& server) {
  const std::string svc(task::kTaskServiceName);
  // One line per method; each binds a member coroutine (never a lambda coroutine).
#define SHIM_METHOD(NAME, REQ, RESP, FN) \
  server.register_typed<REQ, RESP>(      \
      svc, NAME, [this](REQ r, ttrpc::CallContext c) { return FN(std::move(r), std::move(c)); })
  SHIM_METHOD("Create", task::CreateTaskRequest, task::CreateTaskResponse, create);
  SHIM_METHOD("Start", task::StartRequest, task::StartResponse, start);
  SHIM_METHOD("Delete", task::DeleteRequest, task::DeleteResponse, remove);
  SHIM_METHOD("State", task::StateRequest, task::StateResponse, state);
  SHIM_METHOD("Wait", task::WaitRequest, task::WaitResponse, wait);
  SHIM_METHOD("Kill", task::KillRequest, Empty, kill);
  SHIM_METHOD("Pids", task::PidsRequest, task::PidsResponse, pids);
  SHIM_METHOD("Exec", task::ExecProcessRequest, Empty, exec);
  SHIM_METHOD("CloseIO", task::CloseIORequest, Empty, close_io);
  SHIM_METHOD("ResizePty", task::ResizePtyRequest, Empty, resize_pty);
  SHIM_METHOD("Pause", task::PauseRequest, Empty, pause);
  SHIM_METHOD("Resume", task::ResumeRequest, Empty, resume);
  SHIM_METHOD("Checkpoint", task::CheckpointTaskRequest, Empty, checkpoint);
  SHIM_METHOD("Stats", task::StatsRequest, task::StatsResponse, stats);
  SHIM_METHOD("Update", task::UpdateTaskRequest, Empty, update);
  SHIM_METHOD("Connect", task::ConnectRequest, task::ConnectResponse, connect);
  SHIM_METHOD("Shutdown", task::ShutdownRequest, Empty, shutdown);
#undef SHIM_METHOD
}

Result<std::shared_ptr<Container>> TaskService::find_container(const std::string& id) const {
  auto it = containers_.find(id);
  if (it == containers_.end()) {
    return Error(Code::kNotFound, str_cat("container ", id, " not found"));
  }
  return it->second;
}

Result<TaskService::Found> TaskService::find_process(const std::string& id,
                                                     const std::string& exec_id) const {
  auto c = find_container(id);
  if (!c) return std::move(c).error();
  auto p = (*c)->find(exec_id);
  if (!p) return Error(Code::kNotFound, str_cat("exec ", exec_id, " not found in ", id));
  return Found{*c, p};
}

namespace {

types::Status status_of(const Process& p) {
  switch (p.state) {
    case ProcessState::kCreated:
      return types::Status::CREATED;
    case ProcessState::kRunning:
      return types::Status::RUNNING;
    case ProcessState::kPaused:
      return types::Status::PAUSED;
    case ProcessState::kStopped:
      return types::Status::STOPPED;
    case ProcessState::kDeleted:
      return types::Status::STOPPED;
  }
  return types::Status::UNKNOWN;
}

}  // namespace

Task<Result<task::StateResponse>> TaskService::state(task::StateRequest req, ttrpc::CallContext) {
  auto found = find_process(req.id, req.exec_id);
  if (!found) co_return std::move(found).error();
  const Process& p = *found->process;
  task::StateResponse resp;
  resp.id = p.is_init() ? req.id : p.exec_id;
  resp.exec_id = p.exec_id;
  resp.bundle = found->container->bundle;
  resp.pid = static_cast<uint32_t>(p.pid);
  resp.status = status_of(p);
  resp.stdin = p.stdio.stdin_path;
  resp.stdout = p.stdio.stdout_path;
  resp.stderr = p.stdio.stderr_path;
  resp.terminal = p.stdio.terminal;
  if (p.exit && p.state == ProcessState::kStopped) {
    resp.exit_status = static_cast<uint32_t>(p.exit->code);
    resp.exited_at = to_timestamp(p.exit->at);
  }
  co_return resp;
}

Task<Result<task::WaitResponse>> TaskService::wait(task::WaitRequest req, ttrpc::CallContext ctx) {
  auto found = find_process(req.id, req.exec_id);
  if (!found) co_return std::move(found).error();
  // Parks this call (not the shim) until the exit has been published, until the caller hangs
  // up, or until the exec turns out never to run: an abandoned Wait must not hold memory
  // until the container exits.
  Oneshot<ExitStatus> exited = found->process->exit_published;
  Oneshot<bool> never_ran = found->process->never_ran;
  enum class Outcome { kExited, kCallerGone, kNeverRan };
  Oneshot<Outcome> outcome;
  uint64_t on_exit = exited.then([outcome](const ExitStatus&) { outcome.set(Outcome::kExited); });
  uint64_t on_gone =
      ctx.peer_gone.then([outcome](const bool&) { outcome.set(Outcome::kCallerGone); });
  uint64_t on_never = never_ran.then([outcome](const bool&) { outcome.set(Outcome::kNeverRan); });
  Outcome why = co_await outcome;
  exited.cancel(on_exit);
  ctx.peer_gone.cancel(on_gone);
  never_ran.cancel(on_never);
  if (why == Outcome::kCallerGone) co_return Error(Code::kCancelled, "wait: the caller went away");
  if (why == Outcome::kNeverRan) {
    co_return Error(Code::kFailedPrecondition,
                    str_cat("wait: ", req.exec_id.empty() ? "container " : "exec ",
                            req.exec_id.empty() ? req.id : req.exec_id, " never ran"));
  }
  ExitStatus exit = exited.peek();
  task::WaitResponse resp;
  resp.exit_status = static_cast<uint32_t>(exit.code);
  resp.exited_at = to_timestamp(exit.at);
  co_return resp;
}

Task<Result<task::PidsResponse>> TaskService::pids(task::PidsRequest req, ttrpc::CallContext) {
  auto c = find_container(req.id);
  if (!c) co_return std::move(c).error();
  // An exited container has no processes (and its sandbox may be gone already).
  if ((*c)->init->state == ProcessState::kStopped) co_return task::PidsResponse{};
  auto pids = co_await (*c)->runsc->ps(req.id);
  if (!pids) co_return std::move(pids).error().wrap(str_cat("pids ", req.id));
  task::PidsResponse resp;
  for (pid_t pid : *pids) {
    pb::containerd::v1::types::ProcessInfo info;
    info.pid = static_cast<uint32_t>(pid);
    resp.processes.push_back(std::move(info));
  }
  co_return resp;
}

Task<Result<task::ConnectResponse>> TaskService::connect(task::ConnectRequest req,
                                                         ttrpc::CallContext) {
  task::ConnectResponse resp;
  resp.shim_pid = static_cast<uint32_t>(::getpid());
  resp.version = kShimVersion;
  if (auto it = containers_.find(req.id); it != containers_.end()) {
    resp.task_pid = static_cast<uint32_t>(it->second->init->pid);
  }
  co_return resp;
}

Task<Result<Empty>> TaskService::shutdown(task::ShutdownRequest req, ttrpc::CallContext) {
  // A shim still holding containers stays: containerd sends Shutdown after every Delete.
  if (!containers_.empty() || !creating_.empty() || shutting_down_) co_return Empty{};
  shutting_down_ = true;
  log::info("shutdown requested, no containers left: exiting");
  // After this reply is on its way.
  ctx_.reactor.post(ctx_.shutdown);
  co_return Empty{};
}

}  // namespace shim
