// Awaiting a Oneshot for at most some time.
#pragma once

#include <chrono>

#include "reactor/reactor.h"
#include "reactor/task.h"

namespace shim {

// True if `signal` was set within `timeout`.
template <class T>
Task<bool> wait_with_deadline(Reactor& reactor, Oneshot<T> signal,
                              std::chrono::milliseconds timeout) {
  if (signal.ready()) co_return true;
  Oneshot<bool> outcome;
  auto timer = reactor.call_after(timeout, [outcome] { outcome.set(false); });
  uint64_t watch = signal.then([outcome](const T&) { outcome.set(true); });
  bool in_time = co_await outcome;
  reactor.cancel(timer);
  signal.cancel(watch);
  co_return in_time;
}

// Suspends the calling coroutine for `delay`.
inline Task<void> sleep_for(Reactor& reactor, std::chrono::milliseconds delay) {
  Oneshot<bool> done;
  reactor.call_after(delay, [done] { done.set(true); });
  co_await done;
}

}  // namespace shim
