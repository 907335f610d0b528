#include "reactor/task.h"

#include <exception>

#include "base/log.h"

namespace shim {
namespace {

struct Detached {
  struct promise_type {
    Detached get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() {}
    void unhandled_exception() { log::error("detached task: unexpected exception"); }
  };
};

Detached run_detached(Task<void> task) {
  try {
    co_await std::move(task);
  } catch (const std::exception& e) {
    log::error("detached task failed: ", e.what());
  } catch (...) {
    log::error("detached task failed: unknown exception");
  }
}

}  // namespace

void spawn(Task<void> task) { run_detached(std::move(task)); }

}  // namespace shim
