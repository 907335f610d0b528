// Terminals: the test plays runsc, opening a pty and sending its master over console_socket().
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>

#include <cstring>

#include "io/process_io.h"
#include "test_util.h"

namespace shim::io {
namespace {

using namespace std::chrono_literals;
using testing::Loop;
using testing::TempDir;

Task<void> attach(ProcessIo* io, Result<void>* out) { *out = co_await io->attach(); }

// Opens a pty, sends the master like runsc does and returns the slave, in raw mode.
int play_runsc(const std::string& socket_path) {
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  EXPECT_GE(master, 0);
  EXPECT_EQ(::grantpt(master), 0);
  EXPECT_EQ(::unlockpt(master), 0);
  int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  EXPECT_GE(slave, 0);
  termios t;
  ::tcgetattr(slave, &t);
  ::cfmakeraw(&t);
  ::tcsetattr(slave, TCSANOW, &t);

  int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  EXPECT_EQ(::connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  char name[] = "/dev/pts/x";
  iovec iov{name, sizeof name};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &master, sizeof master);
  EXPECT_GT(::sendmsg(sock, &msg, 0), 0);
  ::close(sock);
  ::close(master);  // runsc keeps no copy either
  return slave;
}

TEST(Console, DataFlowsBothWaysAndResizeReachesTheSlave) {
  Loop loop;
  TempDir dir;
  StdioConfig config;
  config.terminal = true;
  config.stdin_path = testing::mkfifo_at(dir, "stdin");
  config.stdout_path = testing::mkfifo_at(dir, "stdout");
  config.stderr_path = "";  // ctr sends none with a terminal
  int client_out = testing::open_client_reader(config.stdout_path, false);
  int before = testing::count_fds();

  auto opened = ProcessIo::open(*loop.reactor, *loop.reaper, config, "ns1", "c1");
  ASSERT_TRUE(opened.ok()) << opened.error().message();
  auto io = std::move(*opened);
  EXPECT_EQ(io->child_stdin(), -1);
  EXPECT_EQ(io->child_stdout(), -1);
  EXPECT_EQ(io->child_stderr(), -1);
  std::string socket_path = io->console_socket();
  ASSERT_FALSE(socket_path.empty());
  ASSERT_TRUE(io->resize(100, 30).ok());  // not attached yet: kept for the master
  int client_in = ::open(config.stdin_path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(client_in, 0);

  int slave = play_runsc(socket_path);
  Result<void> attached = Error(Code::kUnknown, "not run");
  EXPECT_TRUE(loop.run(attach(io.get(), &attached)));
  ASSERT_TRUE(attached.ok()) << attached.error().message();
  EXPECT_FALSE(testing::path_exists_for_test(socket_path));
  winsize first{};
  ASSERT_EQ(::ioctl(slave, TIOCGWINSZ, &first), 0);
  EXPECT_EQ(first.ws_col, 100);
  EXPECT_EQ(first.ws_row, 30);

  // container → client
  ASSERT_EQ(::write(slave, "ping", 4), 4);
  std::string out;
  EXPECT_TRUE(loop.run_until([&] {
    testing::read_available(client_out, out);
    return out.size() >= 4;
  }));
  EXPECT_EQ(out, "ping");

  // client → container
  ASSERT_EQ(::write(client_in, "pong", 4), 4);
  testing::set_nonblocking(slave);
  std::string in;
  EXPECT_TRUE(loop.run_until([&] {
    testing::read_available(slave, in);
    return in.size() >= 4;
  }));
  EXPECT_EQ(in, "pong");

  ASSERT_TRUE(io->resize(132, 43).ok());
  winsize ws{};
  ASSERT_EQ(::ioctl(slave, TIOCGWINSZ, &ws), 0);
  EXPECT_EQ(ws.ws_col, 132);
  EXPECT_EQ(ws.ws_row, 43);

  // The container's side closes: the master reads EIO, which is the terminal's EOF.
  ASSERT_EQ(::write(slave, "bye", 3), 3);
  ::close(slave);
  // drained() also waits for the client to read what is in the fifo, so read meanwhile.
  EXPECT_TRUE(loop.run_until([&] {
    testing::read_available(client_out, out);
    return io->output_done();
  }));
  EXPECT_TRUE(loop.run_until([&] { return testing::read_available(client_out, out); }));
  EXPECT_EQ(out, "pingbye");

  ::close(client_in);
  io.reset();
  EXPECT_EQ(testing::count_fds(), before);
  ::close(client_out);
}

TEST(Console, SocketDirectoryIsRemovedWithTheProcessIo) {
  Loop loop;
  StdioConfig config;
  config.terminal = true;
  auto io = ProcessIo::open(*loop.reactor, *loop.reaper, config, "ns1", "c1");
  ASSERT_TRUE(io.ok());
  std::string path = (*io)->console_socket();
  EXPECT_TRUE(testing::path_exists_for_test(path));
  io->reset();
  EXPECT_FALSE(testing::path_exists_for_test(path));
}

}  // namespace
}  // namespace shim::io
