// The events containerd expects from a shim, built and queued in one place so topics and
// type URLs cannot drift apart.
#pragma once

#include <time.h>

#include <string>

#include "events/publisher.h"
#include "github.com/containerd/containerd/api/events/task.pb.h"

namespace shim {

pb::google::protobuf::Timestamp to_timestamp(const timespec& t);
pb::google::protobuf::Timestamp timestamp_now();

// Each queues one event for `ns`; the publisher delivers them in order.
class TaskEvents {
 public:
  TaskEvents(events::EventPublisher& publisher, std::string ns)
      : publisher_(publisher), ns_(std::move(ns)) {}

  void create(const pb::containerd::events::TaskCreate& e);
  void start(const pb::containerd::events::TaskStart& e);
  void exit(const pb::containerd::events::TaskExit& e);
  void remove(const pb::containerd::events::TaskDelete& e);
  void exec_added(const pb::containerd::events::TaskExecAdded& e);
  void exec_started(const pb::containerd::events::TaskExecStarted& e);
  void paused(const pb::containerd::events::TaskPaused& e);
  void resumed(const pb::containerd::events::TaskResumed& e);
  void oom(const pb::containerd::events::TaskOOM& e);
  void checkpointed(const pb::containerd::events::TaskCheckpointed& e);

 private:
  template <class Event>
  void send(const char* topic, const char* type_name, const Event& e) {
    publisher_.publish(topic, ns_, type_name, e.encode());
  }

  events::EventPublisher& publisher_;
  std::string ns_;
};

}  // namespace shim
