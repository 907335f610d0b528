// A ttrpc server on the reactor (docs/containerd-contract.md). Each request runs in its own
// coroutine, so a call that parks (Wait) never holds up the others, and replies go out in
// completion order.
//
// Protocol decisions, mirroring containerd's Go ttrpc server:
//  - an even stream id (0 included) is answered INVALID_ARGUMENT on that stream id;
//  - frames other than requests (responses, data, unknown types) are ignored: the Task API
//    has no streams, and Go ttrpc ignores them too for forward compatibility;
//  - an oversized frame (> 4 MiB) of any type is answered RESOURCE_EXHAUSTED on its stream;
//  - success is Status{code 0} plus the payload (Go always sets the status);
//  - Request.timeout_nano is passed to the handler in CallContext; not enforced here.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "reactor/reactor.h"
#include "reactor/task.h"
#include "ttrpc/framed_socket.h"

namespace shim::ttrpc {

using Metadata = std::vector<std::pair<std::string, std::string>>;

struct CallContext {
  std::string service;
  std::string method;
  Metadata metadata;
  int64_t timeout_nano = 0;
  uint32_t peer_uid = 0;
  // Set when the caller's connection closes: a handler that parks (Wait) stops waiting then.
  Oneshot<bool> peer_gone;
};

// Returns the response payload, or an Error that becomes Status{code, message}.
// Write handlers as functions or member functions, never as capturing lambda coroutines
// (see reactor/task.h).
using Handler = std::function<Task<Result<std::string>>(std::string payload, CallContext ctx)>;

namespace detail {
template <class Req, class Resp>
Task<Result<std::string>> typed_call(std::function<Task<Result<Resp>>(Req, CallContext)> fn,
                                     std::string payload, CallContext ctx) {
  Req req;
  if (!req.decode(payload)) {
    co_return Error(Code::kInvalidArgument, str_cat("decode ", ctx.method, " request"));
  }
  Result<Resp> resp = co_await fn(std::move(req), std::move(ctx));
  if (!resp.ok()) co_return std::move(resp).error();
  co_return resp->encode();
}
}  // namespace detail

class Server {
 public:
  struct Limits {
    size_t max_connections = 1024;
    size_t max_in_flight_per_connection = 1024;
    size_t max_output_per_connection = FramedSocket::kDefaultMaxOutput;
  };

  explicit Server(Reactor& reactor) : Server(reactor, Limits{}) {}
  Server(Reactor& reactor, Limits limits);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void register_method(std::string service, std::string method, Handler handler);

  // Decodes Req (failure: INVALID_ARGUMENT "decode <method> request") and encodes Resp.
  template <class Req, class Resp>
  void register_typed(std::string service, std::string method,
                      std::function<Task<Result<Resp>>(Req, CallContext)> fn) {
    register_method(std::move(service), std::move(method),
                    [fn = std::move(fn)](std::string payload, CallContext ctx) {
                      return detail::typed_call<Req, Resp>(fn, std::move(payload), std::move(ctx));
                    });
  }

  // Only peers with this uid (SO_PEERCRED) are served; others are closed at once.
  // Defaults to our effective uid; tests change it to exercise the rejection.
  void set_allowed_uid(uid_t uid) { allowed_uid_ = uid; }

  // Serves on an already-listening unix stream socket (made non-blocking here).
  Result<void> serve(UniqueFd listener);
  // Closes the listener; open connections and running calls carry on.
  void stop_accepting();
  // Closes every connection now; running handlers finish and their replies are dropped.
  void close_connections();
  size_t connection_count() const { return connections_.size(); }
  size_t calls_in_flight() const;

  // Runs (on a later loop turn) whenever the last open connection closes.
  std::function<void()> on_last_connection_closed;

 private:
  struct Connection {
    uint64_t id;
    uint32_t peer_uid;
    std::unique_ptr<FramedSocket> socket;
    size_t in_flight = 0;
    Oneshot<bool> closed;
  };

  void on_listener_ready();
  void accept_one(UniqueFd fd);
  void on_frame(uint64_t conn_id, Frame frame);
  void on_closed(uint64_t conn_id);
  void reply_error(Connection& conn, uint32_t stream_id, Code code, std::string message);
  void finish_call(uint64_t conn_id, uint32_t stream_id, Result<std::string> result);
  static Task<void> run_call(Server* self, std::weak_ptr<bool> alive, uint64_t conn_id,
                             uint32_t stream_id, Handler handler, std::string payload,
                             CallContext ctx);

  Reactor& reactor_;
  Limits limits_;
  uid_t allowed_uid_;
  UniqueFd listener_;
  bool accept_paused_ = false;
  Reactor::TimerId resume_timer_ = 0;
  uint64_t next_conn_id_ = 1;
  std::unordered_map<uint64_t, Connection> connections_;
  // Keyed by "service/method", the form error messages use too.
  std::unordered_map<std::string, Handler> handlers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace shim::ttrpc
