// A non-blocking stream socket on the reactor that speaks ttrpc frames: reads into a
// FrameReader, writes through a bounded output buffer (EPOLLOUT only while it is non-empty).
// Shared by the server's connections and the client.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/unique_fd.h"
#include "reactor/reactor.h"
#include "ttrpc/frame.h"

namespace shim::ttrpc {

class FramedSocket {
 public:
  using FrameCallback = std::function<void(Frame)>;
  // Called once, when the socket closes for any reason but close()/destruction by the owner.
  using CloseCallback = std::function<void(const Error&)>;

  // A peer that never reads gets dropped once this much output is waiting.
  static constexpr size_t kDefaultMaxOutput = 16u << 20;

  FramedSocket(Reactor& reactor, UniqueFd fd, size_t max_output = kDefaultMaxOutput);
  ~FramedSocket();
  FramedSocket(const FramedSocket&) = delete;
  FramedSocket& operator=(const FramedSocket&) = delete;

  // Starts watching the fd. Callbacks may destroy this object.
  Result<void> start(FrameCallback on_frame, CloseCallback on_close);
  // Queues one frame. False if the socket is closed or this frame overflowed the output cap
  // (the socket then closes and on_close runs on a later loop turn, never inside send()).
  bool send(uint32_t stream_id, FrameType type, std::string_view data);
  // Closes now, without calling on_close. Idempotent.
  void close();
  bool open() const { return fd_.valid() && !failing_; }
  int fd() const { return fd_.get(); }
  size_t buffered_output() const { return out_.size() - out_off_; }

 private:
  void on_events(uint32_t events);
  bool read_some();  // false: the socket was closed (EOF or error)
  bool flush();      // false: write error
  void update_interest();
  void fail(Error error);        // inline: close and call on_close (top of a reactor callback)
  void fail_later(Error error);  // from send(): stop I/O now, report on the next turn

  Reactor& reactor_;
  UniqueFd fd_;
  size_t max_output_;
  FrameReader reader_;
  std::string out_;
  size_t out_off_ = 0;
  bool want_write_ = false;
  bool failing_ = false;
  FrameCallback on_frame_;
  CloseCallback on_close_;
  // Lets callbacks that run inside our own methods destroy us: we check it after each one.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace shim::ttrpc
