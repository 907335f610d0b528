// Moves bytes from one fd to another on the reactor, never blocking: splice(2) while both ends
// allow it (pipes and fifos: no copy through user space), read/write otherwise (files, ptys).
// EOF on the source is passed on by closing the destination.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "reactor/reactor.h"

namespace shim::io {

class Copier {
 public:
  using DoneCallback = std::function<void()>;

  // Owns both fds and makes them non-blocking, so pass only the shim's own ends (O_NONBLOCK
  // is shared by dup'd fds). `dst` may be invalid: everything read is discarded.
  Copier(Reactor& reactor, std::string name, UniqueFd src, UniqueFd dst, DoneCallback on_done);
  // Stops without calling on_done; closes both fds.
  ~Copier();
  Copier(const Copier&) = delete;
  Copier& operator=(const Copier&) = delete;

  // Waits for the source to become readable before the first read: a fifo that no writer has
  // opened yet reads as EOF, but epoll reports nothing for it.
  void start();
  // From now on "nothing to read right now" counts as EOF: what is already buffered is still
  // delivered, then the destination is closed (CloseIO on stdin).
  void finish_when_idle();
  // For output to a client: at EOF, keep a fifo destination open until the client has read
  // what is buffered in it. ctr closes its end as soon as it learns the process exited, so
  // "written into the fifo" is not yet "delivered"; done() then means delivered.
  void linger_until_read() { linger_ = true; }
  // `hold` is a read side of the destination fifo that the shim opened because the client's
  // reader was not there yet (containerd's client opens it from a goroutine, late). It is
  // kept, so what is written waits in the fifo rather than failing EPIPE, until someone else
  // is seen reading (the fifo holds less than was written), the output ends and has been read,
  // or kReaderHoldLimit passes: then a vanished client shows as EPIPE again. An output that
  // ends before the client opened its side (even one without a byte) keeps the fifo's write
  // side open until the client is there, within the same limit: a reader that opens a fifo
  // after its last writer closed waits for the next writer, forever.
  void hold_reader(UniqueFd hold);
  static constexpr std::chrono::milliseconds kReaderHoldLimit{2000};

  bool done() const { return done_; }
  uint64_t copied() const { return copied_; }
  uint64_t discarded() const { return discarded_; }
  // How many times the copier has run: a wake-up of the shim each.
  uint64_t wakeups() const { return wakeups_; }

 private:
  enum class Step { kProgress, kSrcEmpty, kDstFull, kEof };

  void pump();
  Step step_splice();
  Step step_read_write();
  Step classify_eagain();
  // Source drained after a small piece: pump again shortly rather than at the next write.
  void look_again_later();
  void watch(int fd, uint32_t events);
  void unwatch();
  void start_discarding();
  // Lets go of the reader hold once the fifo shows another reader (or `force`).
  void release_reader_hold(bool force);
  void at_eof();
  void finish();

  Reactor& reactor_;
  std::string name_;
  UniqueFd src_;
  UniqueFd dst_;
  UniqueFd reader_hold_;
  Reactor::TimerId hold_timer_ = 0;
  // With a reader hold: whether the client's reader has shown itself, and until when an
  // output that ended waits for it to.
  bool client_seen_ = false;
  std::chrono::steady_clock::time_point client_deadline_{};
  DoneCallback on_done_;
  bool use_splice_ = true;
  bool batch_small_reads_ = true;
  bool finish_when_idle_ = false;
  bool done_ = false;
  bool linger_ = false;
  Reactor::TimerId linger_timer_ = 0;
  Reactor::TimerId batch_timer_ = 0;
  int spurious_eagain_ = 0;
  int watched_fd_ = -1;
  uint32_t watched_events_ = 0;
  std::vector<char> buf_;
  size_t buf_off_ = 0;
  size_t buf_len_ = 0;
  uint64_t copied_ = 0;
  uint64_t discarded_ = 0;
  uint64_t wakeups_ = 0;
  // Lets work posted to the reactor notice that this copier is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Best effort: a bigger pipe buffer means fewer wake-ups for bulk output.
void grow_pipe(int fd);

}  // namespace shim::io
