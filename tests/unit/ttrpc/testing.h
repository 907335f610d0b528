// Helpers for driving the single-threaded reactor from tests, plus a raw ttrpc peer that
// writes exactly the bytes a test wants.
#pragma once

#include <dirent.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/unique_fd.h"
#include "reactor/reactor.h"
#include "reactor/task.h"
#include "ttrpc.pb.h"
#include "ttrpc/frame.h"

namespace shim::testing {

using namespace std::chrono_literals;

// Runs the loop until `pred` holds or `timeout` passes; returns pred().
inline bool run_until(Reactor& r, const std::function<bool()>& pred,
                      std::chrono::milliseconds timeout = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred() && std::chrono::steady_clock::now() < deadline) {
    auto t = r.call_after(1ms, [&r] { r.stop(); });
    (void)r.run();
    r.cancel(t);
  }
  return pred();
}

inline void run_for(Reactor& r, std::chrono::milliseconds d) {
  auto t = r.call_after(d, [&r] { r.stop(); });
  (void)r.run();
  r.cancel(t);
}

template <class T>
Task<void> store_result(Task<T> task, std::shared_ptr<std::optional<T>> out) {
  out->emplace(co_await std::move(task));
}

inline Task<void> store_done(Task<void> task, std::shared_ptr<std::optional<bool>> out) {
  co_await std::move(task);
  out->emplace(true);
}

// Starts `task` now; the returned slot fills when it finishes.
inline std::shared_ptr<std::optional<bool>> start(Task<void> task) {
  auto out = std::make_shared<std::optional<bool>>();
  spawn(store_done(std::move(task), out));
  return out;
}

// Starts `task` now; the returned slot fills when it finishes.
template <class T>
std::shared_ptr<std::optional<T>> start(Task<T> task) {
  auto out = std::make_shared<std::optional<T>>();
  spawn(store_result<T>(std::move(task), out));
  return out;
}

inline size_t count_fds() {
  size_t n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n - 1;  // the DIR's own fd
}

// A private directory for sockets, removed with its contents.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ttrpc-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { (void)std::system(("rm -rf " + path_).c_str()); }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline sockaddr_un unix_addr(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  return addr;
}

inline UniqueFd listen_unix(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto addr = unix_addr(path);
  ::unlink(path.c_str());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return {};
  if (::listen(fd.get(), 64) != 0) return {};
  return fd;
}

// A ttrpc peer with no logic: sends raw frames, collects whatever comes back.
class RawPeer {
 public:
  explicit RawPeer(const std::string& path) {
    fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    auto addr = unix_addr(path);
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  bool connected() const { return connected_; }
  int fd() const { return fd_.get(); }
  void close() { fd_.reset(); }

  // Writes everything, turning the loop while the socket is full.
  bool send_raw(Reactor& r, std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n > 0) {
        bytes.remove_prefix(static_cast<size_t>(n));
      } else if (n < 0 && errno == EAGAIN) {
        run_for(r, 1ms);
      } else {
        return false;
      }
    }
    return true;
  }
  bool send_frame(Reactor& r, uint32_t sid, uint8_t type, std::string_view data) {
    char h[ttrpc::kHeaderSize];
    ttrpc::encode_header({static_cast<uint32_t>(data.size()), sid, type, 0}, h);
    return send_raw(r, std::string(h, sizeof h) + std::string(data));
  }
  bool send_request(Reactor& r, uint32_t sid, std::string service, std::string method,
                    std::string payload = {}) {
    pb::ttrpc::Request req;
    req.service = std::move(service);
    req.method = std::move(method);
    req.payload = std::move(payload);
    req.metadata.push_back({"containerd-namespace-ttrpc", "default"});
    return send_frame(r, sid, 1, req.encode());
  }

  // Reads what is available; false once the server closed the connection.
  bool poll() {
    char buf[65536];
    for (;;) {
      ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        reader_.feed(std::string_view(buf, static_cast<size_t>(n)));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) eof_ = true;
      break;
    }
    while (auto f = reader_.next()) {
      pb::ttrpc::Response resp;
      Got g{f->header.stream_id, f->header.type, resp.decode(f->data), {}};
      g.response = std::move(resp);
      got_.push_back(std::move(g));
    }
    return !eof_;
  }

  struct Got {
    uint32_t stream_id;
    uint8_t type;
    bool decoded;
    pb::ttrpc::Response response;
  };
  const std::vector<Got>& got() { return got_; }
  const Got* find(uint32_t sid) {
    poll();
    for (auto& g : got_) {
      if (g.stream_id == sid) return &g;
    }
    return nullptr;
  }
  // Runs the loop until a reply on `sid` arrives.
  std::optional<Got> await(Reactor& r, uint32_t sid) {
    run_until(r, [&] { return find(sid) != nullptr; });
    if (auto g = find(sid)) return *g;
    return std::nullopt;
  }
  bool eof() {
    poll();
    return eof_;
  }

 private:
  UniqueFd fd_;
  bool connected_ = false;
  bool eof_ = false;
  ttrpc::FrameReader reader_;
  std::vector<Got> got_;
};

}  // namespace shim::testing
