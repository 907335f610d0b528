// C++20 coroutines for straight-line handlers on the reactor's one thread. A Task starts when
// awaited (or spawned) and resumes its awaiter when done. A Wait call is a suspended Task,
// not a blocked thread.
//
// Rule (GCC 12): never write a capturing lambda as a coroutine; its captures die with the
// lambda object. Use functions or member functions with by-value parameters.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace shim {

template <class T>
class Task;

namespace detail {

template <class Promise>
struct FinalAwaiter {
  bool await_ready() noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
    auto next = h.promise().continuation;
    return next ? next : std::noop_coroutine();
  }
  void await_resume() noexcept {}
};

struct PromiseBase {
  std::coroutine_handle<> continuation;
  std::exception_ptr exception;
  std::suspend_always initial_suspend() noexcept { return {}; }
  void unhandled_exception() { exception = std::current_exception(); }
};

}  // namespace detail

namespace detail {

// What a coroutine hands back: a value, or nothing for Task<void>.
template <class T>
struct ResultSlot : PromiseBase {
  std::optional<T> value;
  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
  T take() { return std::move(*value); }
};

template <>
struct ResultSlot<void> : PromiseBase {
  void return_void() {}
  void take() {}
};

}  // namespace detail

template <class T = void>
class [[nodiscard]] Task {
 public:
  struct promise_type : detail::ResultSlot<T> {
    Task get_return_object() { return Task(Handle::from_promise(*this)); }
    detail::FinalAwaiter<promise_type> final_suspend() noexcept { return {}; }
  };
  using Handle = std::coroutine_handle<promise_type>;

  Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (h_) h_.destroy();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  ~Task() {
    if (h_) h_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiter) noexcept {
    h_.promise().continuation = awaiter;
    return h_;
  }
  T await_resume() {
    if (h_.promise().exception) std::rethrow_exception(h_.promise().exception);
    return h_.promise().take();
  }

 private:
  explicit Task(Handle h) : h_(h) {}
  Handle h_;
};

// Runs `task` to completion in the background; the frame frees itself. An escaping exception
// is a bug: it is logged, never propagated into the reactor.
void spawn(Task<void> task);

// A value delivered once, from a callback, to every coroutine awaiting it (several Wait calls
// may park on one exit). Copies share the same slot, so the producer keeps one and consumers
// await others.
template <class T>
class Oneshot {
 public:
  Oneshot() : state_(std::make_shared<State>()) {}

  // Later calls are ignored: the first outcome wins (an exit beats a timeout, or vice versa).
  void set(T value) const {
    if (state_->value) return;
    state_->value.emplace(std::move(value));
    // Keep the state alive even if a resumed waiter drops the last other copy.
    auto keep = state_;
    auto waiters = std::move(keep->waiters);
    auto callbacks = std::move(keep->callbacks);
    for (auto& [id, callback] : callbacks) callback(*keep->value);
    for (auto waiter : waiters) waiter.resume();
  }
  bool ready() const { return state_->value.has_value(); }
  const T& peek() const { return *state_->value; }

  // Runs `callback` with the value once it is set (at once if it already is). Returns a
  // handle for cancel(), which a caller that stops caring must use so nothing piles up.
  uint64_t then(std::function<void(const T&)> callback) const {
    if (state_->value) {
      callback(*state_->value);
      return 0;
    }
    uint64_t id = ++state_->last_callback_id;
    state_->callbacks.emplace_back(id, std::move(callback));
    return id;
  }
  void cancel(uint64_t id) const {
    auto& callbacks = state_->callbacks;
    for (auto it = callbacks.begin(); it != callbacks.end(); ++it) {
      if (it->first == id) {
        callbacks.erase(it);
        return;
      }
    }
  }

  auto operator co_await() const {
    struct Awaiter {
      std::shared_ptr<State> state;
      bool await_ready() const noexcept { return state->value.has_value(); }
      void await_suspend(std::coroutine_handle<> h) { state->waiters.push_back(h); }
      T await_resume() { return *state->value; }
    };
    return Awaiter{state_};
  }

 private:
  struct State {
    std::optional<T> value;
    std::vector<std::coroutine_handle<>> waiters;
    std::vector<std::pair<uint64_t, std::function<void(const T&)>>> callbacks;
    uint64_t last_callback_id = 0;
  };
  std::shared_ptr<State> state_;
};

}  // namespace shim
