#include "io/copier.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/log.h"

namespace shim::io {
namespace {

constexpr size_t kSpliceChunk = 1 << 20;
constexpr size_t kBufferSize = 128 << 10;
// Bytes moved per wake-up before yielding, so one busy stream cannot starve the others.
constexpr uint64_t kBudget = 16 << 20;
constexpr int kPipeSize = 1 << 20;
constexpr std::chrono::milliseconds kLingerPoll{2};
// A stream that arrives in small pieces (a sandbox writes what its process writes, often 4 KiB
// at a time) is moved in batches: after a wake-up that found less than kBatch, the next look
// comes kBatchDelay later instead of at the next write. Measured with 256 MiB in 4 KiB writes:
// one wake-up per write cost the shim about 3.8 s of CPU and ctr, reading what we hand it in
// the same small pieces, about 6 s; both compete with the sandbox for the CPU. The first piece
// of a quiet stream still goes at once; later ones wait at most kBatchDelay.
constexpr uint64_t kBatch = 64 << 10;
constexpr std::chrono::milliseconds kBatchDelay{2};

void set_nonblocking(int fd) {
  if (fd < 0) return;
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0 && !(flags & O_NONBLOCK)) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

}  // namespace

void grow_pipe(int fd) { ::fcntl(fd, F_SETPIPE_SZ, kPipeSize); }

Copier::Copier(Reactor& reactor, std::string name, UniqueFd src, UniqueFd dst, DoneCallback on_done)
    : reactor_(reactor),
      name_(std::move(name)),
      src_(std::move(src)),
      dst_(std::move(dst)),
      on_done_(std::move(on_done)) {
  set_nonblocking(src_.get());
  set_nonblocking(dst_.get());
  if (!dst_) use_splice_ = false;
  // A pty holds a few KiB at most: waiting for a batch would stall its writer on a full
  // buffer (measured: 6.9 MB through an exec's terminal took 2.4 s with batching).
  batch_small_reads_ = !::isatty(src_.get());
}

Copier::~Copier() {
  *alive_ = false;
  unwatch();
  if (linger_timer_ != 0) reactor_.cancel(linger_timer_);
  if (batch_timer_ != 0) reactor_.cancel(batch_timer_);
  if (hold_timer_ != 0) reactor_.cancel(hold_timer_);
}

void Copier::hold_reader(UniqueFd hold) {
  reader_hold_ = std::move(hold);
  if (!reader_hold_) return;
  client_deadline_ = std::chrono::steady_clock::now() + kReaderHoldLimit;
  hold_timer_ = reactor_.call_after(kReaderHoldLimit, [this] {
    hold_timer_ = 0;
    release_reader_hold(/*force=*/true);
  });
}

void Copier::release_reader_hold(bool force) {
  if (!reader_hold_) return;
  if (!force) {
    // Our hold never reads: less in the fifo than we put there means the client reads.
    int unread = 0;
    if (!dst_ || ::ioctl(dst_.get(), FIONREAD, &unread) != 0) return;
    if (static_cast<uint64_t>(unread) >= copied_) return;
    client_seen_ = true;
  }
  reader_hold_.reset();
  if (hold_timer_ != 0) reactor_.cancel(hold_timer_);
  hold_timer_ = 0;
}

void Copier::start() {
  if (done_) return;
  watch(src_.get(), EPOLLIN);
}

void Copier::finish_when_idle() {
  if (done_) return;
  finish_when_idle_ = true;
  // Only reads here if the source is idle now; otherwise the pending wake-up does it.
  if (watched_fd_ == src_.get() || watched_fd_ < 0) pump();
}

void Copier::pump() {
  ++wakeups_;
  if (batch_timer_ != 0) reactor_.cancel(batch_timer_);
  batch_timer_ = 0;
  uint64_t start = copied_ + discarded_;
  while (!done_) {
    if (copied_ + discarded_ - start >= kBudget) {
      // Yield: re-run on the next turn unless a watch will wake us anyway.
      unwatch();
      reactor_.post([this, alive = alive_] {
        if (*alive) pump();
      });
      return;
    }
    Step step = use_splice_ ? step_splice() : step_read_write();
    switch (step) {
      case Step::kProgress:
        continue;
      case Step::kSrcEmpty:
        release_reader_hold(/*force=*/false);
        if (finish_when_idle_) return finish();
        if (uint64_t moved = copied_ + discarded_ - start;
            batch_small_reads_ && moved > 0 && moved < kBatch) {
          return look_again_later();
        }
        return watch(src_.get(), EPOLLIN);
      case Step::kDstFull:
        release_reader_hold(/*force=*/false);
        return watch(dst_.get(), EPOLLOUT);
      case Step::kEof:
        return at_eof();
    }
  }
}

Copier::Step Copier::step_splice() {
  ssize_t n = ::splice(src_.get(), nullptr, dst_.get(), nullptr, kSpliceChunk,
                       SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
  if (n > 0) {
    copied_ += static_cast<uint64_t>(n);
    spurious_eagain_ = 0;
    return Step::kProgress;
  }
  if (n == 0) return Step::kEof;
  if (errno == EINTR) return Step::kProgress;
  if (errno == EAGAIN) return classify_eagain();
  // EINVAL (a file opened O_APPEND, a tty), EPIPE (reader gone) and the rest: read/write
  // tells which side failed and handles it.
  log::debug("io ", name_, ": splice: ", std::strerror(errno), "; using read/write");
  use_splice_ = false;
  return Step::kProgress;
}

// splice says EAGAIN both for an empty source and a full destination; ask which.
Copier::Step Copier::classify_eagain() {
  pollfd fds[2] = {{src_.get(), POLLIN, 0}, {dst_.get(), POLLOUT, 0}};
  if (::poll(fds, 2, 0) < 0) return Step::kProgress;
  bool dst_ready = fds[1].revents & (POLLOUT | POLLERR | POLLHUP | POLLNVAL);
  bool src_ready = fds[0].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL);
  if (!dst_ready) return Step::kDstFull;
  if (!src_ready) return Step::kSrcEmpty;
  // Both look ready: a race with the peers, retried; if it persists splice cannot serve this
  // pair, so fall back rather than spin.
  if (++spurious_eagain_ > 3) use_splice_ = false;
  return Step::kProgress;
}

Copier::Step Copier::step_read_write() {
  if (buf_.empty()) buf_.resize(kBufferSize);
  if (buf_off_ == buf_len_) {
    ssize_t n = ::read(src_.get(), buf_.data(), buf_.size());
    if (n == 0) return Step::kEof;
    if (n < 0) {
      if (errno == EAGAIN) return Step::kSrcEmpty;
      if (errno == EINTR) return Step::kProgress;
      // EIO: a pty master whose slave side is closed, i.e. the terminal's EOF.
      if (errno != EIO) log::warn("io ", name_, ": read: ", std::strerror(errno));
      return Step::kEof;
    }
    if (!dst_) {
      discarded_ += static_cast<uint64_t>(n);
      return Step::kProgress;
    }
    buf_off_ = 0;
    buf_len_ = static_cast<size_t>(n);
  }
  ssize_t w = ::write(dst_.get(), buf_.data() + buf_off_, buf_len_ - buf_off_);
  if (w < 0) {
    if (errno == EAGAIN) return Step::kDstFull;
    if (errno == EINTR) return Step::kProgress;
    // EPIPE: the client went away. Keep draining the source so the container never blocks
    // on a full pipe.
    log::info("io ", name_, ": write: ", std::strerror(errno), "; discarding further output");
    start_discarding();
    return Step::kProgress;
  }
  buf_off_ += static_cast<size_t>(w);
  copied_ += static_cast<uint64_t>(w);
  return Step::kProgress;
}

void Copier::look_again_later() {
  // Registered for no events, the source still reports a hang-up: EOF is not delayed.
  watch(src_.get(), 0);
  batch_timer_ = reactor_.call_after(kBatchDelay, [this] {
    batch_timer_ = 0;
    pump();
  });
}

void Copier::watch(int fd, uint32_t events) {
  if (watched_fd_ == fd && watched_events_ == events) return;
  if (watched_fd_ == fd && reactor_.modify(fd, events).ok()) {
    watched_events_ = events;
    return;
  }
  unwatch();
  auto added = reactor_.add(fd, events, [this](uint32_t) { pump(); });
  if (!added) {
    // Regular files cannot be polled (EPERM); they never block either, so just retry soon.
    reactor_.post([this, alive = alive_] {
      if (*alive) pump();
    });
    return;
  }
  watched_fd_ = fd;
  watched_events_ = events;
}

void Copier::unwatch() {
  if (watched_fd_ < 0) return;
  reactor_.remove(watched_fd_);
  watched_fd_ = -1;
  watched_events_ = 0;
}

void Copier::start_discarding() {
  if (watched_fd_ == dst_.get()) unwatch();
  discarded_ += buf_len_ - buf_off_;
  buf_off_ = buf_len_ = 0;
  dst_.reset();
  use_splice_ = false;
}

void Copier::at_eof() {
  unwatch();
  linger_timer_ = 0;
  struct stat st;
  if (linger_ && dst_ && ::fstat(dst_.get(), &st) == 0 && S_ISFIFO(st.st_mode)) {
    // Nothing more is written, so no EPIPE to fear: our own reader goes, and a fifo with no
    // reader left shows POLLERR to its writer.
    release_reader_hold(/*force=*/true);
    pollfd p{dst_.get(), POLLOUT, 0};
    bool no_reader = ::poll(&p, 1, 0) == 1 && (p.revents & POLLERR);
    if (!no_reader) client_seen_ = true;
    int unread = 0;
    bool unread_left = !no_reader && ::ioctl(dst_.get(), FIONREAD, &unread) == 0 && unread > 0;
    // A client not seen yet still has to open its side (containerd's client does that from a
    // goroutine, late): closing our writer first would leave that blocking open waiting for
    // a writer forever, even for an output without a byte. It gets until the hold's limit.
    bool client_pending =
        no_reader && !client_seen_ && std::chrono::steady_clock::now() < client_deadline_;
    if (unread_left || client_pending) {
      // Nothing signals "pipe empty" or "a reader opened" to a writer, so look again shortly;
      // this only runs once the output has ended, and drained()'s deadline bounds a client
      // that stopped reading.
      linger_timer_ = reactor_.call_after(kLingerPoll, [this, alive = alive_] {
        if (*alive) at_eof();
      });
      return;
    }
  }
  finish();
}

void Copier::finish() {
  unwatch();
  src_.reset();
  dst_.reset();
  release_reader_hold(/*force=*/true);  // the client sees EOF once our hold is gone too
  done_ = true;
  log::debug("io ", name_, ": done, ", copied_, " bytes copied, ", discarded_, " discarded, ",
             wakeups_, " wake-ups");
  // Last: the callback may do anything, including asking about this copier.
  if (on_done_) on_done_();
}

}  // namespace shim::io
