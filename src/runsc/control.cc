#include "runsc/control.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/strings.h"
#include "reactor/child_reaper.h"
#include "reactor/readable_wait.h"
#include "runsc/output.h"

namespace shim {
namespace {

using nlohmann::json;

// A reply is a few dozen bytes; anything near this is not runsc talking.
constexpr size_t kMaxReply = 64 * 1024;

}  // namespace

std::string control_request(std::string_view method, const json& arg) {
  json request = {{"method", method}, {"arg", arg}};
  return request.dump();
}

Result<json> parse_control_reply(std::string_view reply) {
  json doc = json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("success") ||
      !doc["success"].is_boolean()) {
    return Error(Code::kInternal,
                 str_cat("sandbox control: unexpected reply \"", reply.substr(0, 200), "\""));
  }
  if (!doc["success"].get<bool>()) {
    std::string err = doc.contains("err") && doc["err"].is_string() ? doc["err"].get<std::string>()
                                                                    : std::string("no message");
    return Error(classify_runsc_error(err), str_cat("sandbox control: ", err));
  }
  return doc.contains("result") ? std::move(doc["result"]) : json();
}

std::string control_wait_request(std::string_view container_id) {
  return control_request("containerManager.Wait", container_id);
}

Result<int> parse_control_wait_reply(std::string_view reply) {
  auto result = parse_control_reply(reply);
  SHIM_TRY(result);
  if (!result->is_number_unsigned()) {
    return Error(Code::kInternal,
                 str_cat("sandbox control: no wait status in \"", reply.substr(0, 200), "\""));
  }
  // The same encoding waitpid gives.
  return ExitStatus::from_wait_status(static_cast<int>(result->get<uint32_t>())).code;
}

std::string control_socket_path(std::string_view state_json) {
  json doc = json::parse(state_json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("sandbox")) return {};
  const json& sandbox = doc["sandbox"];
  if (!sandbox.is_object() || !sandbox.contains("controlSocketPath")) return {};
  const json& path = sandbox["controlSocketPath"];
  return path.is_string() ? path.get<std::string>() : std::string();
}

Result<UniqueFd> connect_sandbox_control(const std::string& state_root,
                                         std::string_view sandbox_id) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  socklen_t length = 0;
  auto state = read_file(str_cat(state_root, "/", sandbox_id, "_sandbox:", sandbox_id, ".state"));
  std::string path = state ? control_socket_path(*state) : std::string();
  UniqueFd dir;  // held open until connect: the path below goes through it
  if (!path.empty()) {
    // A CRI sandbox's root is longer than sun_path holds, and runsc binds there all the same,
    // through /proc/self/fd/<its dir>/<name>: so do we.
    if (path[0] != '/') {
      return Error(Code::kInvalidArgument, str_cat("control socket path not absolute: ", path));
    }
    size_t slash = path.rfind('/');
    std::string parent = slash == 0 ? std::string("/") : path.substr(0, slash);
    dir = UniqueFd(::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return errno_error(str_cat("open the dir of control socket ", path));
    std::string via = str_cat("/proc/self/fd/", dir.get(), "/", path.substr(slash + 1));
    if (via.size() + 1 > sizeof addr.sun_path) {
      return Error(Code::kInvalidArgument, str_cat("control socket path too long: ", path));
    }
    std::memcpy(addr.sun_path, via.data(), via.size());
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + via.size() + 1);
  } else {
    std::string name = str_cat("runsc-sandbox.", sandbox_id);
    // sun_path = NUL, name, NUL: the abstract name includes the trailing NUL.
    if (name.size() + 2 > sizeof addr.sun_path) {
      return Error(Code::kInvalidArgument,
                   str_cat("sandbox id too long for a socket: ", sandbox_id));
    }
    std::memcpy(addr.sun_path + 1, name.data(), name.size());
    length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 2);
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return errno_error("sandbox control socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), length) != 0) {
    return Error(Code::kUnavailable,
                 str_cat("connect to sandbox ", sandbox_id, ": ", std::strerror(errno)));
  }
  return fd;
}

namespace {

// sendmsg with the fds on the first byte; the rest of a request this small always fits a
// fresh socket's buffer.
Result<void> send_request(const UniqueFd& socket, const std::string& request,
                          const std::vector<int>& fds) {
  iovec iov{const_cast<char*>(request.data()), request.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    control.resize(CMSG_SPACE(sizeof(int) * fds.size()));
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t sent;
  do {
    sent = ::sendmsg(socket.get(), &msg, MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent != static_cast<ssize_t>(request.size())) return errno_error("send to the sandbox");
  return ok();
}

}  // namespace

Task<Result<json>> control_call(Reactor& reactor, const UniqueFd& socket, std::string request,
                                std::vector<int> fds, std::chrono::milliseconds timeout) {
  if (auto r = send_request(socket, request, fds); !r) co_return std::move(r).error();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  ReadableWait readable(reactor);
  std::string reply;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(socket.get(), buffer, sizeof buffer);
    if (n > 0) {
      reply.append(buffer, static_cast<size_t>(n));
      if (std::string_view object = first_json_object(reply); !object.empty()) {
        co_return parse_control_reply(object);
      }
      if (reply.size() > kMaxReply) {
        co_return Error(Code::kInternal, "sandbox control: reply too long");
      }
      continue;
    }
    if (n == 0) co_return Error(Code::kUnavailable, "sandbox closed the control connection");
    if (errno == EINTR) continue;
    if (errno != EAGAIN) co_return errno_error("read from the sandbox");
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    bool in_time = left.count() > 0;
    // Awaited as a statement of its own: GCC 12 mishandles co_await inside || and ?:.
    if (in_time) in_time = co_await readable.arm(socket.get(), left);
    if (!in_time) co_return Error(Code::kDeadlineExceeded, "the sandbox did not answer in time");
  }
}

Task<Result<int>> wait_via_control(Reactor& reactor, UniqueFd socket, std::string container_id) {
  auto result = co_await control_call(reactor, socket, control_wait_request(container_id));
  if (!result) co_return std::move(result).error().wrap(str_cat("wait for ", container_id));
  if (!result->is_number_unsigned()) {
    co_return Error(Code::kInternal, str_cat("sandbox control: no wait status for ", container_id));
  }
  co_return ExitStatus::from_wait_status(static_cast<int>(result->get<uint32_t>())).code;
}

}  // namespace shim
