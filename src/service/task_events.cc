#include "service/task_events.h"

namespace shim {

namespace ev = pb::containerd::events;

pb::google::protobuf::Timestamp to_timestamp(const timespec& t) {
  pb::google::protobuf::Timestamp ts;
  ts.seconds = t.tv_sec;
  ts.nanos = static_cast<int32_t>(t.tv_nsec);
  return ts;
}

pb::google::protobuf::Timestamp timestamp_now() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return to_timestamp(now);
}

// Type URLs are the bare proto names: containerd's event service resolves them that way.
void TaskEvents::create(const ev::TaskCreate& e) {
  send("/tasks/create", "containerd.events.TaskCreate", e);
}
void TaskEvents::start(const ev::TaskStart& e) {
  send("/tasks/start", "containerd.events.TaskStart", e);
}
void TaskEvents::exit(const ev::TaskExit& e) {
  send("/tasks/exit", "containerd.events.TaskExit", e);
}
void TaskEvents::remove(const ev::TaskDelete& e) {
  send("/tasks/delete", "containerd.events.TaskDelete", e);
}
void TaskEvents::exec_added(const ev::TaskExecAdded& e) {
  send("/tasks/exec-added", "containerd.events.TaskExecAdded", e);
}
void TaskEvents::exec_started(const ev::TaskExecStarted& e) {
  send("/tasks/exec-started", "containerd.events.TaskExecStarted", e);
}
void TaskEvents::paused(const ev::TaskPaused& e) {
  send("/tasks/paused", "containerd.events.TaskPaused", e);
}
void TaskEvents::resumed(const ev::TaskResumed& e) {
  send("/tasks/resumed", "containerd.events.TaskResumed", e);
}
void TaskEvents::oom(const ev::TaskOOM& e) { send("/tasks/oom", "containerd.events.TaskOOM", e); }
void TaskEvents::checkpointed(const ev::TaskCheckpointed& e) {
  send("/tasks/checkpointed", "containerd.events.TaskCheckpointed", e);
}

}  // namespace shim
