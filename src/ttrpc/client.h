// An async ttrpc client on the reactor: many calls in flight on one connection, each with its
// own deadline. Used by the event publisher (to containerd) and by tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "base/error.h"
#include "reactor/reactor.h"
#include "reactor/task.h"
#include "ttrpc/framed_socket.h"
#include "ttrpc/server.h"

namespace shim::ttrpc {

class Client {
 public:
  // `address` is a socket path or "unix://<path>". Fails with UNAVAILABLE when nobody listens.
  static Task<Result<std::unique_ptr<Client>>> connect(Reactor& reactor, std::string address);
  // The same, for callers outside a coroutine: unix sockets connect without waiting.
  static Result<std::unique_ptr<Client>> connect_now(Reactor& reactor, std::string address);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Returns the response payload, or: the server's status as an Error; DEADLINE_EXCEEDED after
  // `timeout` (a reply arriving later is dropped); UNAVAILABLE if the connection closes first
  // or is already closed. Results are delivered on a later loop turn, never inline, so a
  // caller may destroy the Client as soon as its call returns.
  Task<Result<std::string>> call(std::string service, std::string method, std::string payload,
                                 std::chrono::milliseconds timeout, Metadata metadata = {});

  bool connected() const { return socket_ && socket_->open(); }
  // Closes the connection; pending calls fail with UNAVAILABLE.
  void close();
  size_t pending_calls() const { return pending_.size(); }

 private:
  Client(Reactor& reactor, std::unique_ptr<FramedSocket> socket)
      : reactor_(reactor), socket_(std::move(socket)) {}

  struct Pending {
    Oneshot<Result<std::string>> done;
    Reactor::TimerId timer;
  };

  void on_frame(Frame frame);
  void complete(uint32_t stream_id, Result<std::string> result);
  void fail_all(const Error& error);

  Reactor& reactor_;
  std::unique_ptr<FramedSocket> socket_;
  uint32_t next_stream_id_ = 1;
  std::unordered_map<uint32_t, Pending> pending_;
};

}  // namespace shim::ttrpc
