#include "ttrpc/client.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "base/log.h"
#include "base/strings.h"
#include "ttrpc.pb.h"

namespace shim::ttrpc {

Result<std::unique_ptr<Client>> Client::connect_now(Reactor& reactor, std::string address) {
  std::string_view path = address;
  if (starts_with(path, "unix://")) path.remove_prefix(7);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return Error(Code::kInvalidArgument, str_cat("ttrpc address ", address, ": bad socket path"));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return errno_error("ttrpc socket");
  // A unix connect completes or fails at once; EAGAIN means the listener's backlog is full.
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error(Code::kUnavailable, str_cat("dial ", path, ": ", std::strerror(errno)));
  }
  auto socket = std::make_unique<FramedSocket>(reactor, std::move(fd));
  std::unique_ptr<Client> client(new Client(reactor, std::move(socket)));
  Client* raw = client.get();
  SHIM_TRY(raw->socket_->start([raw](Frame f) { raw->on_frame(std::move(f)); },
                               [raw](const Error& e) { raw->fail_all(e); }));
  return client;
}

Task<Result<std::unique_ptr<Client>>> Client::connect(Reactor& reactor, std::string address) {
  co_return connect_now(reactor, std::move(address));
}

Client::~Client() { close(); }

void Client::close() {
  if (socket_) socket_->close();
  fail_all(Error(Code::kUnavailable, "ttrpc: client closed"));
}

Task<Result<std::string>> Client::call(std::string service, std::string method, std::string payload,
                                       std::chrono::milliseconds timeout, Metadata metadata) {
  if (!connected()) co_return Error(Code::kUnavailable, "ttrpc: not connected");
  pb::ttrpc::Request req;
  req.service = std::move(service);
  req.method = std::move(method);
  req.payload = std::move(payload);
  req.timeout_nano = std::chrono::nanoseconds(timeout).count();
  for (auto& [k, v] : metadata) req.metadata.push_back({std::move(k), std::move(v)});
  std::string data = req.encode();
  if (data.size() > kMaxDataSize) {
    co_return Error(Code::kResourceExhausted,
                    str_cat("ttrpc request of ", data.size(), " bytes exceeds ", kMaxDataSize));
  }
  uint32_t sid = next_stream_id_;
  next_stream_id_ += 2;  // client streams are odd and increasing
  Oneshot<Result<std::string>> done;
  auto timer = reactor_.call_after(timeout, [this, sid] {
    complete(sid, Error(Code::kDeadlineExceeded, "ttrpc: call timed out"));
  });
  pending_.emplace(sid, Pending{done, timer});
  // A failed send closes the socket on a later turn, which fails this call with the rest.
  socket_->send(sid, FrameType::kRequest, data);
  // Nothing below may touch `this`: the Client may be gone by the time we resume.
  co_return co_await done;
}

void Client::complete(uint32_t stream_id, Result<std::string> result) {
  auto it = pending_.find(stream_id);
  if (it == pending_.end()) return;  // timed out already: the late reply is dropped
  reactor_.cancel(it->second.timer);
  auto done = std::move(it->second.done);
  pending_.erase(it);
  // Resume the caller from the loop, not from inside our own callbacks.
  reactor_.post([done, result = std::move(result)] { done.set(result); });
}

void Client::fail_all(const Error& error) {
  while (!pending_.empty()) complete(pending_.begin()->first, error);
}

void Client::on_frame(Frame frame) {
  uint32_t sid = frame.header.stream_id;
  if (frame.header.type != static_cast<uint8_t>(FrameType::kResponse)) {
    log::debug("ttrpc client: ignoring frame of type ", frame.header.type);
    return;
  }
  if (frame.oversized) {
    return complete(sid, Error(Code::kResourceExhausted,
                               str_cat("ttrpc response of ", frame.header.length, " bytes")));
  }
  pb::ttrpc::Response resp;
  if (!resp.decode(frame.data)) {
    return complete(sid, Error(Code::kInternal, "decode ttrpc response"));
  }
  if (resp.status && resp.status->code != 0) {
    return complete(sid,
                    Error(static_cast<Code>(resp.status->code), std::move(resp.status->message)));
  }
  complete(sid, std::move(resp.payload));
}

}  // namespace shim::ttrpc
