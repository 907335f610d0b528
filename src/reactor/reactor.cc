#include "reactor/reactor.h"

#include <sys/epoll.h>

#include <algorithm>
#include <cerrno>
#include <limits>

#include "base/log.h"

namespace shim {

Result<std::unique_ptr<Reactor>> Reactor::create() {
  UniqueFd fd(::epoll_create1(EPOLL_CLOEXEC));
  if (!fd) return errno_error("epoll_create1");
  return std::unique_ptr<Reactor>(new Reactor(std::move(fd)));
}

Result<void> Reactor::add(int fd, uint32_t events, IoCallback callback) {
  uint64_t token = next_token_++;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = token;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return errno_error("epoll add");
  token_by_fd_[fd] = token;
  io_[token] = std::make_shared<IoEntry>(IoEntry{fd, std::move(callback)});
  return ok();
}

Result<void> Reactor::modify(int fd, uint32_t events) {
  auto it = token_by_fd_.find(fd);
  if (it == token_by_fd_.end()) return Error(Code::kNotFound, "epoll modify: fd not watched");
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = it->second;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) return errno_error("epoll modify");
  return ok();
}

void Reactor::remove(int fd) {
  auto it = token_by_fd_.find(fd);
  if (it == token_by_fd_.end()) return;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  io_.erase(it->second);
  token_by_fd_.erase(it);
}

Reactor::TimerId Reactor::call_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  TimerId id = next_timer_++;
  auto when = Clock::now() + delay;
  timers_.emplace(id, std::make_pair(when, std::move(fn)));
  timer_order_.emplace(when, id);
  return id;
}

void Reactor::cancel(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  auto range = timer_order_.equal_range(it->second.first);
  for (auto o = range.first; o != range.second; ++o) {
    if (o->second == id) {
      timer_order_.erase(o);
      break;
    }
  }
  timers_.erase(it);
}

void Reactor::post(std::function<void()> fn) { posted_.push_back(std::move(fn)); }

int Reactor::next_timeout_ms() const {
  if (!posted_.empty()) return 0;
  std::optional<Clock::time_point> next = idle_deadline_;
  if (!timer_order_.empty() && (!next || timer_order_.begin()->first < *next)) {
    next = timer_order_.begin()->first;
  }
  if (!next) return -1;
  auto wait = *next - Clock::now();
  if (wait <= Clock::duration::zero()) return 0;
  // Round up so we never wake just before the deadline and spin. Clamped: epoll takes an
  // int, and a year-long deadline (a `runsc wait`) does not fit in one.
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
  return static_cast<int>(std::min<decltype(ms)>(ms, std::numeric_limits<int>::max()));
}

bool Reactor::run_due_timers() {
  bool ran = false;
  auto now = Clock::now();
  while (!timer_order_.empty() && timer_order_.begin()->first <= now) {
    TimerId id = timer_order_.begin()->second;
    timer_order_.erase(timer_order_.begin());
    auto it = timers_.find(id);
    if (it == timers_.end()) continue;
    auto fn = std::move(it->second.second);
    timers_.erase(it);
    fn();
    ran = true;
  }
  return ran;
}

bool Reactor::run_posted() {
  // Only what was posted before this turn: work posted now runs next turn, so a callback
  // that re-posts itself cannot starve I/O.
  size_t n = posted_.size();
  for (size_t i = 0; i < n && !posted_.empty(); ++i) {
    auto fn = std::move(posted_.front());
    posted_.pop_front();
    fn();
  }
  return n > 0;
}

Result<void> Reactor::run() {
  running_ = true;
  epoll_event events[32];
  while (running_) {
    int n = ::epoll_wait(epoll_.get(), events, 32, next_timeout_ms());
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      // A copy: epoll_event is packed on x86-64, so its u64 is misaligned and find() must not
      // bind a reference to it (UBSan's alignment check, found by fuzz_task_server).
      uint64_t token = events[i].data.u64;
      auto it = io_.find(token);
      if (it == io_.end()) continue;  // removed by an earlier callback in this batch
      auto entry = it->second;        // keeps the callback alive while it runs
      entry->callback(events[i].events);
    }
    bool busy = n > 0;
    busy |= run_due_timers();
    busy |= run_posted();
    if (busy && idle_action_) {
      idle_deadline_ = Clock::now() + idle_after_;
    } else if (idle_deadline_ && Clock::now() >= *idle_deadline_) {
      idle_deadline_.reset();
      idle_action_();
    }
  }
  return ok();
}

}  // namespace shim
