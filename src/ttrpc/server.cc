#include "ttrpc/server.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "base/log.h"
#include "ttrpc.pb.h"

namespace shim::ttrpc {
namespace {
// After EMFILE/ENFILE the pending connection stays queued and the listener stays readable;
// pausing accept keeps level-triggered epoll from spinning until fds free up.
constexpr std::chrono::milliseconds kAcceptPause{100};
}  // namespace

Server::Server(Reactor& reactor, Limits limits)
    : reactor_(reactor), limits_(limits), allowed_uid_(::geteuid()) {}

Server::~Server() {
  *alive_ = false;
  stop_accepting();
  // Connections close without reporting: nobody is left to tell.
  connections_.clear();
}

void Server::register_method(std::string service, std::string method, Handler handler) {
  handlers_[str_cat(service, "/", method)] = std::move(handler);
}

size_t Server::calls_in_flight() const {
  size_t n = 0;
  for (const auto& [id, conn] : connections_) n += conn.in_flight;
  return n;
}

Result<void> Server::serve(UniqueFd listener) {
  int flags = ::fcntl(listener.get(), F_GETFL);
  if (flags < 0 || ::fcntl(listener.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
    return errno_error("ttrpc listener: set non-blocking");
  }
  SHIM_TRY(reactor_.add(listener.get(), EPOLLIN, [this](uint32_t) { on_listener_ready(); }));
  listener_ = std::move(listener);
  return ok();
}

void Server::stop_accepting() {
  if (resume_timer_) reactor_.cancel(resume_timer_);
  resume_timer_ = 0;
  if (!listener_) return;
  if (!accept_paused_) reactor_.remove(listener_.get());
  accept_paused_ = false;
  listener_.reset();
}

void Server::close_connections() {
  if (connections_.empty()) return;
  std::vector<Oneshot<bool>> closed;
  for (auto& [id, conn] : connections_) closed.push_back(conn.closed);
  connections_.clear();
  for (auto& signal : closed) signal.set(true);
  // Same notification as when peers leave on their own.
  on_closed(0);
}

void Server::on_listener_ready() {
  // Bounded, so a flood of connects cannot starve calls already being served.
  for (int i = 0; i < 64 && listener_; ++i) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      accept_one(UniqueFd(fd));
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    log::warn("ttrpc accept: ", errno_error("accept4").message());
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      reactor_.remove(listener_.get());
      accept_paused_ = true;
      resume_timer_ = reactor_.call_after(kAcceptPause, [this] {
        resume_timer_ = 0;
        accept_paused_ = false;
        if (listener_) {
          (void)reactor_.add(listener_.get(), EPOLLIN, [this](uint32_t) { on_listener_ready(); });
        }
      });
    }
    return;
  }
}

void Server::accept_one(UniqueFd fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    log::warn("ttrpc: ", errno_error("SO_PEERCRED").message(), ": closing connection");
    return;
  }
  if (cred.uid != allowed_uid_) {
    log::warn("ttrpc: rejecting connection from uid ", cred.uid, " pid ", cred.pid, " (only uid ",
              allowed_uid_, " is served)");
    return;
  }
  if (connections_.size() >= limits_.max_connections) {
    log::warn("ttrpc: ", connections_.size(), " connections open: rejecting pid ", cred.pid);
    return;
  }
  uint64_t id = next_conn_id_++;
  auto socket =
      std::make_unique<FramedSocket>(reactor_, std::move(fd), limits_.max_output_per_connection);
  FramedSocket* raw = socket.get();
  connections_.emplace(id, Connection{id, cred.uid, std::move(socket), 0, {}});
  auto started = raw->start([this, id](Frame f) { on_frame(id, std::move(f)); },
                            [this, id](const Error&) { on_closed(id); });
  if (!started.ok()) {
    log::warn("ttrpc: watch connection: ", started.error().message());
    connections_.erase(id);
  }
}

void Server::on_closed(uint64_t conn_id) {
  if (auto it = connections_.find(conn_id); it != connections_.end()) {
    // Parked handlers learn of it after the connection is gone, so no reply tries it.
    Oneshot<bool> closed = it->second.closed;
    connections_.erase(it);
    closed.set(true);
  }
  if (!connections_.empty() || !on_last_connection_closed) return;
  std::weak_ptr<bool> alive = alive_;
  reactor_.post([this, alive] {
    if (alive.expired() || !connections_.empty() || !on_last_connection_closed) return;
    on_last_connection_closed();
  });
}

void Server::reply_error(Connection& conn, uint32_t stream_id, Code code, std::string message) {
  pb::ttrpc::Response resp;
  resp.status.emplace();
  resp.status->code = static_cast<int32_t>(code);
  resp.status->message = std::move(message);
  conn.socket->send(stream_id, FrameType::kResponse, resp.encode());
}

void Server::on_frame(uint64_t conn_id, Frame frame) {
  auto it = connections_.find(conn_id);
  if (it == connections_.end()) return;
  Connection& conn = it->second;
  uint32_t sid = frame.header.stream_id;
  if (frame.oversized) {
    return reply_error(conn, sid, Code::kResourceExhausted,
                       str_cat("message length ", frame.header.length,
                               " exceeds maximum message size of ", kMaxDataSize));
  }
  if (frame.header.type != static_cast<uint8_t>(FrameType::kRequest)) {
    log::debug("ttrpc: ignoring frame of type ", frame.header.type, " on stream ", sid);
    return;
  }
  if (sid % 2 == 0) {
    return reply_error(conn, sid, Code::kInvalidArgument,
                       "StreamID must be odd for client initiated streams");
  }
  pb::ttrpc::Request req;
  if (!req.decode(frame.data)) {
    return reply_error(conn, sid, Code::kInvalidArgument, "decode ttrpc request");
  }
  std::string key = str_cat(req.service, "/", req.method);
  auto h = handlers_.find(key);
  if (h == handlers_.end()) {
    return reply_error(conn, sid, Code::kUnimplemented, str_cat(key, ": not implemented"));
  }
  if (conn.in_flight >= limits_.max_in_flight_per_connection) {
    return reply_error(conn, sid, Code::kResourceExhausted,
                       str_cat("too many calls in flight (", conn.in_flight, ")"));
  }
  CallContext ctx{std::move(req.service), std::move(req.method), {},
                  req.timeout_nano,       conn.peer_uid,         conn.closed};
  ctx.metadata.reserve(req.metadata.size());
  for (auto& kv : req.metadata) ctx.metadata.emplace_back(std::move(kv.key), std::move(kv.value));
  ++conn.in_flight;
  // Runs inline until the handler first parks; `conn` may be gone after this.
  spawn(run_call(this, alive_, conn_id, sid, h->second, std::move(req.payload), std::move(ctx)));
}

Task<void> Server::run_call(Server* self, std::weak_ptr<bool> alive, uint64_t conn_id,
                            uint32_t stream_id, Handler handler, std::string payload,
                            CallContext ctx) {
  std::optional<Result<std::string>> result;
  try {
    result.emplace(co_await handler(std::move(payload), std::move(ctx)));
  } catch (...) {
    // Exceptions are bugs here, but one must not take the shim down or leave a call hanging.
    log::error("ttrpc: handler threw on stream ", stream_id);
    result.emplace(Error(Code::kInternal, "handler failed"));
  }
  if (alive.expired()) co_return;  // the server went away while we were parked
  self->finish_call(conn_id, stream_id, std::move(*result));
}

void Server::finish_call(uint64_t conn_id, uint32_t stream_id, Result<std::string> result) {
  auto it = connections_.find(conn_id);
  if (it == connections_.end()) return;  // peer left: the reply has nowhere to go
  Connection& conn = it->second;
  --conn.in_flight;
  if (!result.ok()) {
    return reply_error(conn, stream_id, result.error().code(), result.error().message());
  }
  pb::ttrpc::Response resp;
  resp.status.emplace();  // code 0, as Go ttrpc sends
  resp.payload = std::move(*result);
  std::string data = resp.encode();
  if (data.size() > kMaxDataSize) {
    return reply_error(conn, stream_id, Code::kResourceExhausted,
                       str_cat("response of ", data.size(), " bytes exceeds ", kMaxDataSize));
  }
  conn.socket->send(stream_id, FrameType::kResponse, data);
}

}  // namespace shim::ttrpc
