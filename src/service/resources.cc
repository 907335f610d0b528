// Stats, Update and OOM: the sandbox's host cgroup, since this runsc has no `update` and its
// own figures miss what the sandbox costs the host. In a pod, where that one cgroup holds every
// container, a container's own figures come from the sandbox, and an app container's Update
// gives the pod's cgroup the sum of what its containers asked for.
#include "base/log.h"
#include "cgroups/container_metrics.h"
#include "runsc/control.h"
#include "runsc/control_requests.h"
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
  // In a pod the host cgroup holds every container: each one's own figures are the sandbox's.
  if (in_pod(**c)) {
    auto usage = co_await usage_in_pod(*c);
    if (usage) {
      task::StatsResponse resp;
      std::string type_url;
      Cgroup::Version version =
          pod_of(**c).cgroup ? pod_of(**c).cgroup->version() : Cgroup::Version::kV1;
      std::string metrics = encode_container_metrics(version, *usage, type_url);
      resp.stats = pb::google::protobuf::Any{type_url, std::move(metrics)};
      co_return resp;
    }
    log::debug("stats ", req.id, " from its sandbox: ", usage.error().message(),
               "; the pod's cgroup instead");
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
  auto resources = cgroups::parse_linux_resources(req.resources->value);
  if (!resources) co_return std::move(resources).error().wrap(str_cat("update ", req.id));
  if (!(*c)->joins_sandbox) {
    if (auto r = (*c)->cgroup->apply(*resources); !r) {
      co_return std::move(r).error().wrap(str_cat("update ", req.id));
    }
    cgroups::merge_into((*c)->requested, *resources);
    co_return Empty{};
  }
  // An app container's limits are the pod's one cgroup's, shared with its siblings: that cgroup
  // gets what they all asked for together, not this container's alone.
  cgroups::Resources wanted = (*c)->requested;
  cgroups::merge_into(wanted, *resources);
  std::vector<cgroups::Resources> members;
  for (const auto& [id, other] : containers_) {
    if (other->joins_sandbox && other->sandbox_id == (*c)->sandbox_id) {
      members.push_back(other == *c ? wanted : other->requested);
    }
  }
  cgroups::Resources total = cgroups::pod_total(members);
  if (auto r = (*c)->cgroup->apply(total); !r) {
    co_return std::move(r).error().wrap(str_cat("update ", req.id, " (its pod's cgroup)"));
  }
  (*c)->requested = std::move(wanted);
  co_return Empty{};
}

bool TaskService::in_pod(const Container& c) const {
  if (c.joins_sandbox) return true;
  for (const auto& [id, other] : containers_) {
    if (other->joins_sandbox && other->sandbox_id == c.id) return true;
  }
  return false;
}

const Container& TaskService::pod_of(const Container& c) const {
  auto pod = containers_.find(c.sandbox_id);
  return pod == containers_.end() ? c : *pod->second;
}

Task<Result<ContainerUsage>> TaskService::usage_in_pod(std::shared_ptr<Container> c) {
  constexpr std::chrono::milliseconds kStatsLimit{5000};
  RunscFeatures features = co_await runsc_features(*c->runsc);
  auto socket = connect_sandbox_control(c->runsc->state_root(), c->sandbox_id);
  if (!socket) co_return std::move(socket).error();
  auto result =
      co_await control_call(ctx_.reactor, *socket, event_request(c->id, features), {}, kStatsLimit);
  if (!result) co_return std::move(result).error();
  auto event = parse_event(*result);
  if (!event) co_return std::move(event).error();

  ContainerUsage usage;
  const Container& pod = pod_of(*c);
  size_t apps = 0;
  for (const auto& [id, other] : containers_) {
    if (other->joins_sandbox && other->sandbox_id == pod.id) ++apps;
  }
  if (features.event_per_container()) {
    usage.memory_bytes = event->memory_bytes;
    usage.pids = event->pids;
  } else {
    // This sandbox accounts memory for itself as a whole: shared out as newer runscs do when
    // they cannot tell containers apart (the pod's own container none, the others alike).
    usage.memory_bytes = c->joins_sandbox && apps > 0 ? event->memory_bytes / apps : 0;
    auto socket2 = connect_sandbox_control(c->runsc->state_root(), c->sandbox_id);
    if (socket2) {
      auto processes =
          co_await control_call(ctx_.reactor, *socket2, processes_request(c->id), {}, kStatsLimit);
      if (processes && processes->is_array()) usage.pids = processes->size();
    }
  }
  usage.cpu_ns = event->cpu_ns;
  if (usage.cpu_ns == 0 && !event->cpu_ns_by_container.empty() && pod.cgroup) {
    // As `runsc events` does: the host cgroup's CPU in the proportions the sandbox counted.
    auto host_ns = pod.cgroup->cpu_usage_ns();
    uint64_t host = host_ns ? *host_ns : 0;
    uint64_t sum = 0;
    for (const auto& [id, ns] : event->cpu_ns_by_container) sum += ns;
    auto mine = event->cpu_ns_by_container.find(c->id);
    uint64_t own = mine == event->cpu_ns_by_container.end() ? 0 : mine->second;
    usage.cpu_ns = sum > 0
                       ? static_cast<uint64_t>(static_cast<double>(host) *
                                               static_cast<double>(own) / static_cast<double>(sum))
                       : host / event->cpu_ns_by_container.size();
  }
  co_return usage;
}

}  // namespace shim
