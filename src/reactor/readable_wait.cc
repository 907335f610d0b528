#include "reactor/readable_wait.h"

#include <sys/epoll.h>

namespace shim {

Oneshot<bool> ReadableWait::arm(int fd, std::chrono::milliseconds timeout) {
  cancel();
  Oneshot<bool> result;
  auto added = reactor_.add(fd, EPOLLIN, [this, result](uint32_t) {
    cancel();
    result.set(true);
  });
  if (!added) {
    result.set(true);  // not pollable: let the caller try and see
    return result;
  }
  fd_ = fd;
  timer_ = reactor_.call_after(timeout, [this, result] {
    timer_ = 0;
    cancel();
    result.set(false);
  });
  return result;
}

void ReadableWait::cancel() {
  if (fd_ >= 0) reactor_.remove(fd_);
  fd_ = -1;
  if (timer_ != 0) reactor_.cancel(timer_);
  timer_ = 0;
}

}  // namespace shim
