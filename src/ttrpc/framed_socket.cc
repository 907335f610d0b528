#include "ttrpc/framed_socket.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>

#include "base/log.h"

namespace shim::ttrpc {
namespace {
// Per wakeup: bounds how long one busy peer can hold the loop (level-triggered epoll calls
// us again if more is waiting).
constexpr size_t kReadChunk = 64 * 1024;
constexpr int kReadsPerWakeup = 16;
}  // namespace

FramedSocket::FramedSocket(Reactor& reactor, UniqueFd fd, size_t max_output)
    : reactor_(reactor), fd_(std::move(fd)), max_output_(max_output) {}

FramedSocket::~FramedSocket() {
  *alive_ = false;
  close();
}

Result<void> FramedSocket::start(FrameCallback on_frame, CloseCallback on_close) {
  on_frame_ = std::move(on_frame);
  on_close_ = std::move(on_close);
  return reactor_.add(fd_.get(), EPOLLIN | EPOLLRDHUP, [this](uint32_t ev) { on_events(ev); });
}

void FramedSocket::close() {
  if (!fd_.valid()) return;
  reactor_.remove(fd_.get());
  fd_.reset();
}

void FramedSocket::fail(Error error) {
  close();
  auto cb = std::move(on_close_);
  on_close_ = nullptr;
  if (cb) cb(error);  // may destroy us: nothing after this
}

void FramedSocket::fail_later(Error error) {
  if (failing_) return;
  failing_ = true;
  if (fd_.valid()) reactor_.remove(fd_.get());  // no more callbacks; fd closes in fail()
  std::weak_ptr<bool> alive = alive_;
  reactor_.post([this, alive, error = std::move(error)]() mutable {
    if (alive.expired() || !*alive.lock()) return;
    fail(std::move(error));
  });
}

bool FramedSocket::send(uint32_t stream_id, FrameType type, std::string_view data) {
  if (!open()) return false;
  if (buffered_output() + kHeaderSize + data.size() > max_output_) {
    log::warn("ttrpc: peer is not reading (", buffered_output(), " bytes queued): dropping it");
    fail_later(Error(Code::kResourceExhausted, "peer is not reading its replies"));
    return false;
  }
  if (out_off_ > 0 && out_off_ == out_.size()) {
    out_.clear();
    out_off_ = 0;
  }
  append_frame(out_, stream_id, type, data);
  if (!flush()) {
    fail_later(errno_error("ttrpc write"));
    return false;
  }
  update_interest();
  return true;
}

bool FramedSocket::flush() {
  while (out_off_ < out_.size()) {
    ssize_t n = ::send(fd_.get(), out_.data() + out_off_, out_.size() - out_off_,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      out_off_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return false;
  }
  if (out_off_ == out_.size()) {
    out_.clear();
    out_off_ = 0;
  } else if (out_off_ > (1u << 20) && out_off_ > out_.size() / 2) {
    // Keep a slow reader's buffer from holding what was already sent.
    out_.erase(0, out_off_);
    out_off_ = 0;
  }
  return true;
}

void FramedSocket::update_interest() {
  bool want = buffered_output() > 0;
  if (want == want_write_ || !fd_.valid()) return;
  want_write_ = want;
  (void)reactor_.modify(fd_.get(), EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u));
}

bool FramedSocket::read_some() {
  char buf[kReadChunk];
  for (int i = 0; i < kReadsPerWakeup; ++i) {
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      reader_.feed(std::string_view(buf, static_cast<size_t>(n)));
      if (static_cast<size_t>(n) < sizeof buf) return true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;  // EOF or error
  }
  return true;
}

void FramedSocket::on_events(uint32_t events) {
  std::weak_ptr<bool> alive = alive_;
  if (events & EPOLLOUT) {
    if (!flush()) return fail(errno_error("ttrpc write"));
    update_interest();
  }
  bool eof = false;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) eof = !read_some();
  // Deliver every complete frame that arrived before any EOF; a half frame is dropped.
  // A local copy: a callback that destroys us must not destroy the function it is running in.
  auto on_frame = on_frame_;
  while (auto frame = reader_.next()) {
    on_frame(std::move(*frame));
    if (alive.expired() || !open()) return;
  }
  if (eof) {
    if (reader_.mid_frame()) log::debug("ttrpc: peer closed mid-frame; discarded");
    fail(Error(Code::kUnavailable, "ttrpc: connection closed"));
  }
}

}  // namespace shim::ttrpc
