// One pending "tell me when this fd is readable, or give up at a deadline" for a coroutine.
// Owned by the object whose fd it watches, so destroying the owner cancels the watch before
// the fd number can be reused.
#pragma once

#include <chrono>

#include "reactor/reactor.h"
#include "reactor/task.h"

namespace shim {

class ReadableWait {
 public:
  explicit ReadableWait(Reactor& reactor) : reactor_(reactor) {}
  ~ReadableWait() { cancel(); }
  ReadableWait(const ReadableWait&) = delete;
  ReadableWait& operator=(const ReadableWait&) = delete;

  // Resolves true when `fd` is readable or hung up, false after `timeout`. One at a time.
  // A cancelled wait never resolves: its awaiter must be gone too.
  Oneshot<bool> arm(int fd, std::chrono::milliseconds timeout);
  void cancel();

 private:
  Reactor& reactor_;
  int fd_ = -1;
  Reactor::TimerId timer_ = 0;
};

}  // namespace shim
