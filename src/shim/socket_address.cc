#include "shim/socket_address.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "base/file.h"
#include "base/sha256.h"
#include "base/strings.h"

namespace shim {

std::string clean_path(std::string_view path) {
  bool rooted = path.starts_with('/');
  std::vector<std::string_view> parts;
  for (std::string_view part : split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
      }
      continue;
    }
    parts.push_back(part);
  }
  std::string out = rooted ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out.push_back('/');
    out.append(parts[i]);
  }
  return out.empty() ? "." : out;
}

std::string socket_address(std::string_view grpc_address, std::string_view ns,
                           std::string_view id) {
  std::string joined = clean_path(str_cat(grpc_address, "/", ns, "/", id));
  return str_cat("unix://", kSocketDir, "/", sha256_hex(joined));
}

std::string socket_path(std::string_view address) {
  if (address.starts_with("unix://")) address.remove_prefix(7);
  return std::string(address);
}

namespace {

Result<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Error(Code::kInvalidArgument, str_cat("socket path too long: ", path));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

}  // namespace

Result<UniqueFd> connect_unix(const std::string& path) {
  auto addr = unix_address(path);
  if (!addr) return std::move(addr).error();
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return errno_error("socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&*addr), sizeof *addr) != 0) {
    return errno_error(str_cat("connect ", path));
  }
  return fd;
}

bool socket_is_live(const std::string& path) { return connect_unix(path).ok(); }

Result<UniqueFd> listen_unix(const std::string& path) {
  auto addr = unix_address(path);
  if (!addr) return std::move(addr).error();
  std::string dir = path.substr(0, path.rfind('/'));
  // containerd's state dir may not exist yet (a containerd with another state dir runs
  // shims all the same): its levels get the 0711 containerd gives them, the socket dir 0700.
  if (auto r = make_dirs(dir.substr(0, dir.rfind('/')), 0711); !r) return std::move(r).error();
  if (!dir.empty() && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return errno_error(str_cat("mkdir ", dir));
  }
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return errno_error("socket");
  ::unlink(path.c_str());  // a stale socket: the caller checked nobody answers there
  // Bind under a tight umask so the socket is never reachable with looser permissions.
  mode_t old_mask = ::umask(0177);
  int rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&*addr), sizeof *addr);
  ::umask(old_mask);
  if (rc != 0) return errno_error(str_cat("bind ", path));
  if (::chmod(path.c_str(), 0600) != 0 || ::listen(fd.get(), SOMAXCONN) != 0) {
    Error e = errno_error(str_cat("listen ", path));
    ::unlink(path.c_str());
    return e;
  }
  return fd;
}

}  // namespace shim
