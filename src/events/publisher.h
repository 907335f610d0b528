// Sends task events to containerd (Events/Forward on TTRPC_ADDRESS) in publish order. publish()
// only enqueues; one coroutine drains the queue. While containerd is away it waits for
// containerd's socket to come back (RedialSchedule: inotify, then a short burst of dials), so
// a restart of containerd delays events by milliseconds but neither loses nor reorders them.
//
// Delivery is at least once: an event whose reply was lost with the connection is sent again.
// An event containerd itself rejects (an error status, not a transport failure) is retried
// `max_rejections` times and then dropped with an error line, so one bad event cannot wedge
// every event behind it.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>

#include "events/redial_schedule.h"
#include "reactor/reactor.h"
#include "reactor/task.h"

namespace shim::events {

class EventPublisher {
 public:
  struct Options {
    size_t max_queue = 4096;  // past this, the newest event is dropped
    // Between retries of an event containerd answered with an error, or of a connection that
    // accepts and then fails every call (a containerd that is gone is waited for by `redial`).
    std::chrono::milliseconds initial_backoff{100};
    std::chrono::milliseconds max_backoff{5000};
    RedialSchedule::Options redial;
    std::chrono::milliseconds call_timeout{5000};
    int max_rejections = 5;
  };

  // `ttrpc_address`: containerd's TTRPC_ADDRESS, a socket path or unix://path. Nothing
  // connects until the first event.
  EventPublisher(Reactor& reactor, std::string ttrpc_address)
      : EventPublisher(reactor, std::move(ttrpc_address), Options{}) {}
  EventPublisher(Reactor& reactor, std::string ttrpc_address, Options options);
  // Abandons what is still queued (flush() first to wait for it). A Forward in flight is
  // cancelled; its coroutine ends on a later loop turn.
  ~EventPublisher();
  EventPublisher(const EventPublisher&) = delete;
  EventPublisher& operator=(const EventPublisher&) = delete;

  // Enqueues one event; never blocks, never throws. `type_url` is the bare proto name
  // ("containerd.events.TaskExit"), `event_bytes` the encoded event. Timestamped now.
  void publish(std::string topic, std::string ns, std::string type_url, std::string event_bytes);

  // Events queued or in flight.
  size_t pending() const;
  // Events dropped because the queue was full or containerd kept rejecting them.
  size_t dropped() const;
  // Completes when the queue is empty or after `max`, whichever is first (for shutdown).
  Task<void> flush(std::chrono::milliseconds max);

  struct Core;  // shared with the drain coroutine, which may outlive the publisher briefly

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace shim::events
