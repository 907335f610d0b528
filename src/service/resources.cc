// Stats, Update and OOM: the sandbox's host cgroup, since this runsc has no `update` and its
// own figures miss what the sandbox costs the host.
#include "base/log.h"
#include "service/task_service.h"

namespace shim {

namespace ev = pb::containerd::events;

void TaskService::watch_cgroup(std::shared_ptr<Container> c) {
  c->oom.reset();
  auto cgroup = Cgroup::for_pid(c->init->host_pid);
  if (!cgroup) {
    log::warn("cgroup of ", c->id, ": ", cgroup.error().message(), " (no stats, update or oom)");
    c->cgroup.reset();
    return;
  }
  c->cgroup = std::move(*cgroup);
  // The callback holds the id, not the container: the container owns the watcher.
  auto watcher = OomWatcher::watch(ctx_.reactor, *c->cgroup, [this, id = c->id] {
    ev::TaskOOM event;
    event.container_id = id;
    events_.oom(event);
    log::warn("container ", id, " hit its memory limit: OOM kill");
  });
  if (!watcher) {
    log::warn("oom watch of ", c->id, ": ", watcher.error().message());
    return;
  }
  c->oom = std::move(*watcher);
}

Task<Result<task::StatsResponse>> TaskService::stats(task::StatsRequest req, ttrpc::CallContext) {
  auto c = find_container(req.id);
  if (!c) co_return std::move(c).error();
  // containerd's Metrics skips a task that answers NotFound and logs an error for any other.
  if ((*c)->init->state == ProcessState::kStopped) {
    co_return Error(Code::kNotFound, str_cat("stats ", req.id, ": the container has exited"));
  }
  if (!(*c)->cgroup) {
    co_return Error(Code::kFailedPrecondition, str_cat("no cgroup known for ", req.id));
  }
  std::string type_url;
  auto metrics = (*c)->cgroup->metrics(type_url);
  if (!metrics) co_return std::move(metrics).error().wrap(str_cat("stats ", req.id));
  task::StatsResponse resp;
  resp.stats = pb::google::protobuf::Any{type_url, std::move(*metrics)};
  co_return resp;
}

Task<Result<Empty>> TaskService::update(task::UpdateTaskRequest req, ttrpc::CallContext) {
  auto c = find_container(req.id);
  if (!c) co_return std::move(c).error();
  if (!req.resources || req.resources->value.empty()) {
    co_return Error(Code::kInvalidArgument, str_cat("update ", req.id, ": no resources"));
  }
  if (!(*c)->cgroup) {
    co_return Error(Code::kFailedPrecondition, str_cat("no cgroup known for ", req.id));
  }
  // The OCI LinuxResources, as JSON (type URL ".../runtime-spec/1/LinuxResources").
  if (auto r = (*c)->cgroup->update(req.resources->value); !r) {
    co_return std::move(r).error().wrap(str_cat("update ", req.id));
  }
  co_return Empty{};
}

}  // namespace shim
