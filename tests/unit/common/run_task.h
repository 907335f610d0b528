// For unit tests that drive coroutines on a real reactor: run one task to its end.
#pragma once

#include <chrono>
#include <memory>

#include "reactor/reactor.h"
#include "reactor/task.h"

namespace shim::testing {

namespace detail {
inline Task<void> run_and_stop(Reactor& reactor, Task<void> task, std::shared_ptr<bool> done) {
  co_await std::move(task);
  *done = true;
  reactor.stop();
}
}  // namespace detail

// Runs `reactor` until `task` completes or `limit` passes; true if it completed.
inline bool run_task(Reactor& reactor, Task<void> task,
                     std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  auto done = std::make_shared<bool>(false);
  spawn(detail::run_and_stop(reactor, std::move(task), done));
  auto guard = reactor.call_after(limit, [&reactor] { reactor.stop(); });
  if (!*done) (void)reactor.run();
  reactor.cancel(guard);
  return *done;
}

}  // namespace shim::testing
