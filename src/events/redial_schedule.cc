#include "events/redial_schedule.h"

#include <algorithm>

#include "base/log.h"

namespace shim::events {

RedialSchedule::RedialSchedule(Reactor& reactor, std::string socket_path, Options options)
    : reactor_(reactor),
      socket_path_(std::move(socket_path)),
      options_(std::move(options)),
      burst_next_(options_.burst.size()),
      safety_delay_(options_.safety_initial) {}

Oneshot<bool> RedialSchedule::next() {
  cancel_timer();
  if (!watch_ && !socket_path_.empty()) {
    auto watch = PathAppearanceWatch::create(reactor_, socket_path_, [this] { on_sign_of_life(); });
    if (watch) {
      watch_ = std::move(*watch);
      // The socket may have come back between the failed dial and now: look once more.
      sign_of_life_ = true;
    } else if (!watch_failed_logged_) {
      watch_failed_logged_ = true;
      log::warn("event publisher: cannot watch for ", socket_path_, ": ", watch.error().message(),
                "; redialing every ", safety_delay_.count(), " ms+");
    }
  }
  Oneshot<bool> due;
  if (sign_of_life_) {
    sign_of_life_ = false;
    burst_next_ = 0;
    due.set(true);
    return due;
  }
  pending_ = due;
  std::chrono::milliseconds delay = safety_delay_;
  if (burst_next_ < options_.burst.size()) {
    delay = options_.burst[burst_next_++];
  } else {
    safety_delay_ = std::min(safety_delay_ * 2, options_.safety_max);
  }
  timer_ = reactor_.call_after(delay, [this] {
    timer_ = 0;
    complete(true);
  });
  return due;
}

void RedialSchedule::on_sign_of_life() {
  if (!pending_) {
    sign_of_life_ = true;  // for the next next()
    return;
  }
  cancel_timer();
  burst_next_ = 0;
  complete(true);
}

void RedialSchedule::connected() {
  cancel_timer();
  watch_.reset();
  sign_of_life_ = false;
  burst_next_ = options_.burst.size();
  safety_delay_ = options_.safety_initial;
}

void RedialSchedule::cancel() {
  cancel_timer();
  watch_.reset();
  complete(false);
}

void RedialSchedule::complete(bool due) {
  if (!pending_) return;
  auto waiter = *pending_;
  pending_.reset();  // the waiter resumes inline and may call next() again
  waiter.set(due);
}

void RedialSchedule::cancel_timer() {
  if (timer_) reactor_.cancel(timer_);
  timer_ = 0;
}

}  // namespace shim::events
