#include "events/publisher.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "base/log.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "reactor/deadline.h"
#include "ttrpc/client.h"

namespace shim::events {

namespace evpb = pb::containerd::services::events::ttrpc::v1;

namespace {

struct Event {
  std::string topic;
  std::string ns;
  std::string request;  // encoded ForwardRequest, built at publish time
};

// Failures of the path to containerd, as opposed to containerd answering with an error.
bool is_transport_error(Code code) {
  return code == Code::kUnavailable || code == Code::kDeadlineExceeded || code == Code::kCancelled;
}

// The socket path in a ttrpc address ("unix://<path>" or a bare path).
std::string socket_path_of(const std::string& address) {
  constexpr std::string_view kScheme = "unix://";
  return address.starts_with(kScheme) ? address.substr(kScheme.size()) : address;
}

}  // namespace

struct EventPublisher::Core {
  Core(Reactor& r, std::string a, Options o)
      : reactor(r),
        address(std::move(a)),
        options(o),
        redial(reactor, socket_path_of(address), options.redial) {}

  Reactor& reactor;
  std::string address;
  Options options;
  RedialSchedule redial;  // while containerd cannot be dialed
  std::deque<Event> queue;
  bool draining = false;
  bool stopped = false;
  std::unique_ptr<ttrpc::Client> client;
  // The backoff sleep in progress (after a rejection), so the destructor can end it early.
  std::optional<Oneshot<bool>> sleeper;
  Reactor::TimerId sleep_timer = 0;
  std::vector<Oneshot<bool>> idle_waiters;  // flush() callers
  bool outage_logged = false;
  bool full_logged = false;
  size_t dropped_while_full = 0;
  size_t dropped_total = 0;
};

namespace {

using Core = EventPublisher::Core;

Task<void> backoff_sleep(std::shared_ptr<Core> core, std::chrono::milliseconds delay) {
  Oneshot<bool> done;
  core->sleeper = done;
  core->sleep_timer = core->reactor.call_after(delay, [done] { done.set(true); });
  co_await done;
  core->sleeper.reset();
  core->sleep_timer = 0;
}

void note_outage(Core& core, const Error& error) {
  if (core.outage_logged) {
    log::debug("event publisher: ", error.message(), "; retrying");
    return;
  }
  core.outage_logged = true;
  log::warn("event publisher: cannot reach containerd at ", core.address, ": ", error.message(),
            "; ", core.queue.size(), " events queued until it is back");
}

void became_idle(Core& core) {
  if (core.dropped_while_full > 0) {
    log::warn("event publisher: queue drained; ", core.dropped_while_full,
              " events were dropped while it was full");
  }
  core.full_logged = false;
  core.dropped_while_full = 0;
  auto waiters = std::move(core.idle_waiters);
  core.idle_waiters.clear();
  for (auto& w : waiters) w.set(true);
}

// The one consumer of the queue: the front event is sent until it is delivered (or rejected
// for good); nothing behind it goes first.
Task<void> drain(std::shared_ptr<Core> core) {
  auto backoff = core->options.initial_backoff;
  int rejections = 0;
  int transport_failures = 0;  // in a row, each on a connection that dialed fine
  while (!core->stopped && !core->queue.empty()) {
    if (!core->client || !core->client->connected()) {
      core->client.reset();
      auto connected = co_await ttrpc::Client::connect(core->reactor, core->address);
      if (core->stopped) break;
      if (!connected.ok()) {
        note_outage(*core, connected.error());
        co_await core->redial.next();
        continue;
      }
      if (core->outage_logged) log::debug("event publisher: connected to ", core->address);
      core->redial.connected();
      core->client = std::move(*connected);
    }
    // Built outside the co_await expression: GCC 12 miscompiles braced lists inside it.
    ttrpc::Metadata metadata;
    metadata.emplace_back("containerd-namespace-ttrpc", core->queue.front().ns);
    auto call = core->client->call(std::string(evpb::kEventsServiceName), "Forward",
                                   core->queue.front().request, core->options.call_timeout,
                                   std::move(metadata));
    auto result = co_await std::move(call);
    if (core->stopped) break;
    if (result.ok()) {
      if (core->outage_logged) log::info("event publisher: containerd reachable again");
      core->outage_logged = false;
      core->queue.pop_front();
      backoff = core->options.initial_backoff;
      rejections = 0;
      transport_failures = 0;
      continue;
    }
    const Error& error = result.error();
    if (is_transport_error(error.code())) {
      core->client.reset();
      note_outage(*core, error);
      // Dial again at once: a containerd that went away refuses it, and the redial schedule
      // waits for its return. Only one that accepts and then fails calls gets the backoff.
      if (++transport_failures == 1) continue;
    } else if (++rejections >= core->options.max_rejections) {
      log::error("event publisher: containerd rejected ", core->queue.front().topic, " ",
                 rejections, " times (", error.message(), "): dropping it");
      core->queue.pop_front();
      ++core->dropped_total;
      rejections = 0;
      continue;
    } else {
      log::warn("event publisher: forward ", core->queue.front().topic, ": ", error.message());
    }
    co_await backoff_sleep(core, backoff);
    backoff = std::min(backoff * 2, core->options.max_backoff);
  }
  core->draining = false;
  if (core->queue.empty()) became_idle(*core);
}

Task<void> wait_idle(std::shared_ptr<Core> core, std::chrono::milliseconds max) {
  if (core->queue.empty()) co_return;
  Oneshot<bool> idle;
  core->idle_waiters.push_back(idle);
  co_await wait_with_deadline(core->reactor, idle, max);
}

}  // namespace

EventPublisher::EventPublisher(Reactor& reactor, std::string ttrpc_address, Options options)
    : core_(std::make_shared<Core>(reactor, std::move(ttrpc_address), options)) {}

EventPublisher::~EventPublisher() {
  core_->stopped = true;
  core_->redial.cancel();  // a drain waiting for containerd wakes inline, sees `stopped`, ends
  if (core_->sleep_timer) core_->reactor.cancel(core_->sleep_timer);
  // Wakes a sleeping drain inline; it sees `stopped` and ends.
  if (core_->sleeper) {
    auto sleeper = *core_->sleeper;  // the drain resets core_->sleeper as it wakes
    sleeper.set(false);
  }
  // A Forward in flight fails with UNAVAILABLE on a later turn, and the drain then ends.
  if (core_->client) core_->client->close();
  auto waiters = std::move(core_->idle_waiters);
  for (auto& w : waiters) w.set(false);
}

void EventPublisher::publish(std::string topic, std::string ns, std::string type_url,
                             std::string event_bytes) {
  Core& core = *core_;
  if (core.stopped) return;
  try {
    if (core.queue.size() >= core.options.max_queue) {
      ++core.dropped_total;
      ++core.dropped_while_full;
      // One line per episode: a flood of drops must not flood containerd's log too.
      if (!core.full_logged) {
        core.full_logged = true;
        log::error("event queue full: dropping ", topic, " (", core.queue.size(),
                   " queued; further drops are counted, not logged)");
      }
      return;
    }
    auto now = std::chrono::system_clock::now().time_since_epoch();
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(now);
    evpb::ForwardRequest req;
    auto& env = req.envelope.emplace();
    env.timestamp.emplace();
    env.timestamp->seconds = secs.count();
    env.timestamp->nanos = static_cast<int32_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - secs).count());
    env.namespace_ = ns;
    env.topic = topic;
    env.event.emplace();
    env.event->type_url = std::move(type_url);
    env.event->value = std::move(event_bytes);
    core.queue.push_back(Event{std::move(topic), std::move(ns), req.encode()});
  } catch (...) {
    log::error("event publisher: out of memory; event dropped");
    ++core.dropped_total;
    return;
  }
  if (!core.draining) {
    core.draining = true;
    spawn(drain(core_));
  }
}

size_t EventPublisher::pending() const { return core_->queue.size(); }
size_t EventPublisher::dropped() const { return core_->dropped_total; }

Task<void> EventPublisher::flush(std::chrono::milliseconds max) { return wait_idle(core_, max); }

}  // namespace shim::events
