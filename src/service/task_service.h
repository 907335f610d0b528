// containerd.task.v2.Task: the only place that knows the Task API. Handlers are coroutines on
// the reactor; errors travel as Result and become an rpc status in the ttrpc layer.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "cgroups/container_metrics.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "google/protobuf/empty.pb.h"
#include "process/bundle_spec.h"
#include "process/container.h"
#include "reactor/command.h"
#include "runsc/control_requests.h"
#include "service/task_events.h"
#include "ttrpc/server.h"

namespace shim {

namespace task = pb::containerd::task::v2;
using Empty = pb::google::protobuf::Empty;

struct ServiceContext {
  Reactor& reactor;
  ChildReaper& reaper;
  CommandRunner& runner;
  events::EventPublisher& publisher;
  std::string ns;
  // Ends the daemon (after events are flushed).
  std::function<void()> shutdown;
};

class TaskService {
 public:
  explicit TaskService(ServiceContext context);

  void register_methods(ttrpc::Server& server);
  size_t container_count() const { return containers_.size(); }

  Task<Result<task::CreateTaskResponse>> create(task::CreateTaskRequest req, ttrpc::CallContext);
  Task<Result<task::StartResponse>> start(task::StartRequest req, ttrpc::CallContext);
  Task<Result<task::DeleteResponse>> remove(task::DeleteRequest req, ttrpc::CallContext);
  Task<Result<task::StateResponse>> state(task::StateRequest req, ttrpc::CallContext);
  Task<Result<task::WaitResponse>> wait(task::WaitRequest req, ttrpc::CallContext ctx);
  Task<Result<Empty>> kill(task::KillRequest req, ttrpc::CallContext);
  Task<Result<task::PidsResponse>> pids(task::PidsRequest req, ttrpc::CallContext);
  Task<Result<Empty>> exec(task::ExecProcessRequest req, ttrpc::CallContext);
  Task<Result<Empty>> close_io(task::CloseIORequest req, ttrpc::CallContext);
  Task<Result<Empty>> resize_pty(task::ResizePtyRequest req, ttrpc::CallContext);
  Task<Result<Empty>> pause(task::PauseRequest req, ttrpc::CallContext);
  Task<Result<Empty>> resume(task::ResumeRequest req, ttrpc::CallContext);
  Task<Result<Empty>> checkpoint(task::CheckpointTaskRequest req, ttrpc::CallContext);
  Task<Result<task::StatsResponse>> stats(task::StatsRequest req, ttrpc::CallContext);
  Task<Result<Empty>> update(task::UpdateTaskRequest req, ttrpc::CallContext);
  Task<Result<task::ConnectResponse>> connect(task::ConnectRequest req, ttrpc::CallContext);
  Task<Result<Empty>> shutdown(task::ShutdownRequest req, ttrpc::CallContext);

 private:
  struct Found {
    std::shared_ptr<Container> container;
    std::shared_ptr<Process> process;
  };
  // NotFound for an unknown container or exec id.
  Result<std::shared_ptr<Container>> find_container(const std::string& id) const;
  Result<Found> find_process(const std::string& id, const std::string& exec_id) const;

  Task<Result<task::CreateTaskResponse>> create_container(const task::CreateTaskRequest& req);
  void publish_create(const task::CreateTaskRequest& req, pid_t pid);
  // Starts a new sandbox for the init from a checkpoint image, with fresh stdio.
  Task<Result<void>> restore_sandbox(std::shared_ptr<Container> c, std::string image);
  Task<Result<void>> checkpoint_in_place(std::shared_ptr<Container> c, std::string path);
  Task<Result<task::StartResponse>> start_init(std::shared_ptr<Container> c);
  Task<Result<task::StartResponse>> start_exec(std::shared_ptr<Container> c,
                                               std::shared_ptr<Process> p);
  // The two ways to start an exec whose stdio is open: through the sandbox's control socket
  // (Unimplemented when that sandbox does not speak our requests), or a `runsc exec`.
  Task<Result<void>> start_exec_in_sandbox(std::shared_ptr<Container> c,
                                           std::shared_ptr<Process> p);
  Task<Result<void>> start_exec_with_runsc(std::shared_ptr<Container> c,
                                           std::shared_ptr<Process> p);
  Task<void> wait_exec_in_sandbox(std::shared_ptr<Container> c, std::shared_ptr<Process> p);
  // Whether the sandbox `c` runs in (its own, or its pod's) still lives.
  bool sandbox_alive(const Container& c) const;
  // Signals an exec the way it was started.
  Task<Result<void>> signal_exec(Container& c, Process& p, int signal);
  Task<Result<void>> signal_in_sandbox(Container& c, pid_t pid, int signal, SignalTarget target);
  Task<Result<task::DeleteResponse>> remove_init(std::shared_ptr<Container> c);
  Task<Result<Empty>> resume_container(std::shared_ptr<Container> c);
  Task<Result<Empty>> kill_unstarted(std::shared_ptr<Container> c);
  // Undoes a half-made container: runsc state, mounts, fds.
  Task<void> discard(std::shared_ptr<Container> c);
  // After its init exited: removes a sandbox nothing else runs in (runsc state, cgroup), so
  // that Delete finds the work done. Nothing can run in a stopped sandbox again.
  bool can_release(const Container& c) const;
  Task<void> release(std::shared_ptr<Container> c);

  // What this container's runsc binary can do, asked once per binary.
  Task<RunscFeatures> runsc_features(Runsc& runsc);
  // Before runsc sees the bundle: a missing binary fails here, as with runc, and capabilities
  // granted wholesale that this runsc does not know are dropped from config.json.
  Task<Result<void>> prepare_spec(std::shared_ptr<Container> c, BundleSpec& spec);
  // The capabilities of an OCI Process granted wholesale that this runsc does not know are
  // removed; true when any was.
  Task<bool> drop_unknown_capabilities(Container& c, nlohmann::json& process);

  // A pod's app container, or a pod's sandbox container that app containers joined.
  bool in_pod(const Container& c) const;
  // The container whose sandbox `c` runs in: itself, or its pod's sandbox container.
  const Container& pod_of(const Container& c) const;
  // One container of a pod: what the sandbox counts for it (containerManager.Event).
  Task<Result<ContainerUsage>> usage_in_pod(std::shared_ptr<Container> c);

  // Finds the sandbox's host cgroup and watches it for OOM kills.
  void watch_cgroup(std::shared_ptr<Container> c);

  // Exit paths, started by the reaper.
  void watch_exit(std::shared_ptr<Container> c, std::shared_ptr<Process> p);
  Task<void> wait_app_exit(std::shared_ptr<Container> c);
  Task<void> handle_exit(std::shared_ptr<Container> c, std::shared_ptr<Process> p,
                         ExitStatus status);

  ServiceContext ctx_;
  TaskEvents events_;
  std::map<std::string, std::shared_ptr<Container>> containers_;
  std::set<std::string> creating_;                       // ids between Create's start and end
  std::map<std::string, RunscFeatures> runsc_features_;  // by binary name
  bool shutting_down_ = false;
};

}  // namespace shim
