// One thread, one epoll loop: fd readiness, timers and posted work. Every callback runs to
// completion before the next starts, so the shim's state needs no locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>

#include "base/error.h"
#include "base/unique_fd.h"

namespace shim {

class Reactor {
 public:
  using Clock = std::chrono::steady_clock;
  using IoCallback = std::function<void(uint32_t events)>;
  using TimerId = uint64_t;

  static Result<std::unique_ptr<Reactor>> create();

  // Watches `fd` (not owned) for epoll `events`; the callback gets the ready set.
  Result<void> add(int fd, uint32_t events, IoCallback callback);
  Result<void> modify(int fd, uint32_t events);
  // Safe to call from inside any callback, including the fd's own.
  void remove(int fd);

  TimerId call_after(std::chrono::milliseconds delay, std::function<void()> fn);
  void cancel(TimerId id);
  // Runs `fn` on the next turn of the loop, never inline.
  void post(std::function<void()> fn);

  // Runs `action` once the loop has had nothing to do for `quiet`; again only after the next
  // burst of work. One wake-up per burst, none while idle.
  void set_idle_action(std::chrono::milliseconds quiet, std::function<void()> action) {
    idle_after_ = quiet;
    idle_action_ = std::move(action);
  }

  // Runs until stop(); returns the error if epoll itself fails.
  Result<void> run();
  void stop() { running_ = false; }

  size_t watched_fds() const { return io_.size(); }
  // Timers not yet run or cancelled: the fuzzer's teardown runs the loop until none is left,
  // so no coroutine stays parked on one when the reactor goes.
  size_t pending_timers() const { return timers_.size(); }

 private:
  explicit Reactor(UniqueFd epoll) : epoll_(std::move(epoll)) {}
  int next_timeout_ms() const;
  bool run_due_timers();  // true if any ran
  bool run_posted();

  struct IoEntry {
    int fd;
    IoCallback callback;
  };

  UniqueFd epoll_;
  bool running_ = false;
  uint64_t next_token_ = 1;
  std::unordered_map<int, uint64_t> token_by_fd_;
  std::unordered_map<uint64_t, std::shared_ptr<IoEntry>> io_;
  TimerId next_timer_ = 1;
  std::multimap<Clock::time_point, TimerId> timer_order_;
  std::unordered_map<TimerId, std::pair<Clock::time_point, std::function<void()>>> timers_;
  std::deque<std::function<void()>> posted_;
  std::chrono::milliseconds idle_after_{0};
  std::function<void()> idle_action_;
  std::optional<Clock::time_point> idle_deadline_;
};

}  // namespace shim
