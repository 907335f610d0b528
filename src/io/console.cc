#include "io/console.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "io/endpoints.h"

namespace shim::io {
namespace {

constexpr const char* kRunDir = "/run/containerd/runsc-console";

// The private directory keeps other users from connecting first and feeding us a terminal.
Result<std::string> make_private_dir() {
  std::vector<std::string> bases;
  if (const char* tmp = ::getenv("TMPDIR"); tmp && *tmp) bases.emplace_back(tmp);
  bases.emplace_back(kRunDir);
  bases.emplace_back("/tmp");
  Error last(Code::kInternal, "no directory for the console socket");
  for (const auto& base : bases) {
    if (base == kRunDir) {
      if (auto made = make_dirs(base, 0711); !made) {
        last = std::move(made).error();
        continue;
      }
    }
    std::string templ = str_cat(base, "/console-XXXXXX");
    if (::mkdtemp(templ.data()) != nullptr) return templ;
    last = errno_error(str_cat("mkdtemp ", templ));
  }
  return last;
}

}  // namespace

Result<std::unique_ptr<ConsoleSocket>> ConsoleSocket::create(Reactor& reactor) {
  auto dir = make_private_dir();
  if (!dir) return std::move(dir).error().wrap("console socket");
  std::string path = str_cat(*dir, "/console.sock");
  // From here the destructor removes the directory on any failure.
  std::unique_ptr<ConsoleSocket> console(new ConsoleSocket(reactor, *dir, path, UniqueFd()));

  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return Error(Code::kInvalidArgument, str_cat("console socket path too long: ", path));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return errno_error("console socket");
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return errno_error(str_cat("bind ", path));
  }
  if (::listen(fd.get(), 1) != 0) return errno_error(str_cat("listen ", path));
  console->listener_ = std::move(fd);
  return console;
}

ConsoleSocket::~ConsoleSocket() {
  wait_.cancel();
  conn_.reset();
  listener_.reset();
  ::unlink(path_.c_str());
  ::rmdir(dir_.c_str());
}

Task<Result<UniqueFd>> ConsoleSocket::receive_master(std::chrono::milliseconds timeout) {
  auto deadline = Reactor::Clock::now() + timeout;
  auto left = [deadline] {
    auto d = std::chrono::ceil<std::chrono::milliseconds>(deadline - Reactor::Clock::now());
    return d.count() > 0 ? d : std::chrono::milliseconds(0);
  };

  while (!conn_) {
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      conn_.reset(fd);
      break;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) co_return errno_error("accept console connection");
    if (!co_await wait_.arm(listener_.get(), left())) {
      co_return Error(Code::kDeadlineExceeded, "runsc did not connect to the console socket");
    }
  }

  while (true) {
    char data[256];
    iovec iov{data, sizeof data};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(conn_.get(), &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (!co_await wait_.arm(conn_.get(), left())) {
        co_return Error(Code::kDeadlineExceeded, "runsc sent no terminal on the console socket");
      }
      continue;
    }
    if (n < 0) co_return errno_error("receive terminal from console socket");

    UniqueFd master;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int got;
        std::memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof got);
        if (!master) {
          master.reset(got);
        } else {
          ::close(got);  // only one terminal is expected; never leak extras
        }
      }
    }
    conn_.reset();
    if (!master) co_return Error(Code::kInternal, "console socket: message carried no fd");
    int flags = ::fcntl(master.get(), F_GETFL);
    if (flags >= 0) ::fcntl(master.get(), F_SETFL, flags | O_NONBLOCK);
    co_return std::move(master);
  }
}

Result<Pty> open_pty() {
  Pty pty;
  pty.master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.master) return errno_error("open a pty");
  if (::grantpt(pty.master.get()) != 0 || ::unlockpt(pty.master.get()) != 0) {
    return errno_error("unlock the pty");
  }
  char name[64];
  if (::ptsname_r(pty.master.get(), name, sizeof name) != 0) return errno_error("ptsname");
  pty.replica.reset(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!pty.replica) return errno_error(str_cat("open ", name));
  int flags = ::fcntl(pty.master.get(), F_GETFL);
  ::fcntl(pty.master.get(), F_SETFL, flags | O_NONBLOCK);
  return pty;
}

Result<void> set_window_size(int master, uint32_t width, uint32_t height) {
  winsize ws{};
  ws.ws_col = static_cast<unsigned short>(width);
  ws.ws_row = static_cast<unsigned short>(height);
  if (::ioctl(master, TIOCSWINSZ, &ws) != 0) return errno_error("resize terminal");
  return ok();
}

}  // namespace shim::io
