// The sandbox control client: request and reply texts, and a whole Wait against a fake
// control server listening where runsc's would: runsc 20221219's abstract name (with its
// trailing NUL), or runsc 20240729's socket file that the sandbox's state file names.
#include "runsc/control.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/file.h"
#include "base/strings.h"

namespace shim {
namespace {

using namespace std::chrono_literals;

TEST(ControlWaitRequest, NamesMethodAndContainer) {
  EXPECT_EQ(control_wait_request("c1"), R"({"arg":"c1","method":"containerManager.Wait"})");
  EXPECT_EQ(control_wait_request("a\"b"), R"({"arg":"a\"b","method":"containerManager.Wait"})");
}

TEST(ControlWaitReply, ExitCodesAndSignals) {
  // Measured with runsc 20221219: `sh -c "exit 7"` answers 1792 (7 << 8).
  EXPECT_EQ(*parse_control_wait_reply(R"({"success":true,"err":"","result":1792})"), 7);
  EXPECT_EQ(*parse_control_wait_reply(R"({"success":true,"err":"","result":0})"), 0);
  EXPECT_EQ(*parse_control_wait_reply(R"({"success":true,"err":"","result":9})"), 137);
  EXPECT_EQ(*parse_control_wait_reply(R"({"success":true,"err":"","result":143})"), 143);
}

TEST(ControlWaitReply, FailureCarriesTheSandboxMessage) {
  auto r = parse_control_wait_reply(
      R"({"success":false,"err":"can't wait for container \"x\": container \"x\" not found","result":null})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("container \"x\" not found"), std::string::npos);
}

TEST(ControlWaitReply, NonsenseIsInternal) {
  for (std::string_view reply : {"{}", "[1]", R"({"success":true})",
                                 R"({"success":true,"result":"x"})", R"({"success":"yes"})"}) {
    auto r = parse_control_wait_reply(reply);
    ASSERT_FALSE(r.ok()) << reply;
    EXPECT_EQ(r.error().code(), Code::kInternal) << reply;
  }
}

// No state file there: runsc 20221219's abstract name is tried.
constexpr const char* kNoStateRoot = "/nonexistent-runsc-root";

TEST(ControlSocketPath, FromTheStateFile) {
  // Trimmed from a runsc 20240729 state file.
  EXPECT_EQ(control_socket_path(R"({"id":"s1","sandbox":{"id":"s1","pid":9490,)"
                                R"("controlSocketPath":"/var/run/runsc-s1.sock"}})"),
            "/var/run/runsc-s1.sock");
  // runsc 20221219 records none.
  EXPECT_EQ(control_socket_path(R"({"id":"s1","sandbox":{"id":"s1","pid":9490}})"), "");
  for (std::string_view text :
       {"", "{", "[]", R"({"sandbox":3})", R"({"sandbox":{"controlSocketPath":7}})"}) {
    EXPECT_EQ(control_socket_path(text), "") << text;
  }
}

TEST(ConnectSandboxControl, NobodyListeningIsUnavailable) {
  auto fd = connect_sandbox_control(kNoStateRoot, str_cat("no-such-sandbox-", ::getpid()));
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.error().code(), Code::kUnavailable);
}

// A control server on runsc's address for `sandbox_id` (the abstract name, or the file
// `socket_path` when given), answering one connection with `serve(fd)` on its own thread.
class FakeControlServer {
 public:
  template <class Serve>
  FakeControlServer(const std::string& sandbox_id, Serve serve, const std::string& socket_path = "")
      : socket_path_(socket_path) {
    listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    socklen_t length = 0;
    if (socket_path.empty()) {
      std::string name = "runsc-sandbox." + sandbox_id;
      std::memcpy(addr.sun_path + 1, name.data(), name.size());
      length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 2);
    } else {
      // As runsc binds a path longer than sun_path: through its open directory.
      size_t slash = socket_path.rfind('/');
      int dir = ::open(socket_path.substr(0, slash).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      std::string via = str_cat("/proc/self/fd/", dir, socket_path.substr(slash));
      std::memcpy(addr.sun_path, via.data(), via.size());
      length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + via.size() + 1);
      EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), length), 0);
      ::close(dir);
      length = 0;
    }
    if (length != 0) {
      EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), length), 0);
    }
    EXPECT_EQ(::listen(listener_, 4), 0);
    thread_ = std::thread([this, serve] {
      int conn = ::accept(listener_, nullptr, nullptr);
      if (conn < 0) return;
      serve(conn);
      ::close(conn);
    });
  }
  ~FakeControlServer() {
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
    if (!socket_path_.empty()) ::unlink(socket_path_.c_str());
  }

 private:
  std::string socket_path_;
  int listener_ = -1;
  std::thread thread_;
};

std::string read_request(int fd) {
  char buffer[512];
  ssize_t n = ::read(fd, buffer, sizeof buffer);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

Task<void> drive(Task<Result<int>> task, std::optional<Result<int>>* out, Reactor* reactor) {
  out->emplace(co_await std::move(task));
  reactor->stop();
}

Result<int> wait_on(Reactor& reactor, const std::string& sandbox_id, const std::string& cid,
                    const std::string& state_root = kNoStateRoot) {
  auto fd = connect_sandbox_control(state_root, sandbox_id);
  if (!fd) return std::move(fd).error();
  std::optional<Result<int>> out;
  reactor.post(
      [&] { spawn(drive(wait_via_control(reactor, std::move(*fd), cid), &out, &reactor)); });
  auto guard = reactor.call_after(10s, [&reactor] { reactor.stop(); });
  EXPECT_TRUE(reactor.run().ok());
  reactor.cancel(guard);
  if (!out) return Error(Code::kDeadlineExceeded, "wait did not finish");
  return std::move(*out);
}

TEST(WaitViaControl, AsksForTheContainerAndReadsASplitReply) {
  auto reactor = Reactor::create();
  ASSERT_TRUE(reactor.ok());
  std::string sandbox = str_cat("ctltest-", ::getpid(), "-a");
  std::string request;
  FakeControlServer server(sandbox, [&request](int fd) {
    request = read_request(fd);
    // The container exits a while later; the reply arrives in two pieces.
    std::this_thread::sleep_for(50ms);
    std::string reply = R"({"success":true,"err":"","result":768})";
    ASSERT_EQ(::write(fd, reply.data(), 10), 10);
    std::this_thread::sleep_for(20ms);
    ASSERT_EQ(::write(fd, reply.data() + 10, reply.size() - 10),
              static_cast<ssize_t>(reply.size() - 10));
  });
  auto code = wait_on(**reactor, sandbox, "app1");
  ASSERT_TRUE(code.ok()) << code.error().message();
  EXPECT_EQ(*code, 3);
  EXPECT_EQ(request, R"({"arg":"app1","method":"containerManager.Wait"})");
}

TEST(WaitViaControl, AtTheSocketFileTheStateFileNames) {
  auto reactor = Reactor::create();
  ASSERT_TRUE(reactor.ok());
  char dir[] = "/tmp/ctltest-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  // A root as deep as a CRI sandbox's: the socket's path is longer than sun_path holds.
  std::string root = str_cat(dir, "/", std::string(64, 'r'));
  ASSERT_EQ(::mkdir(root.c_str(), 0700), 0);
  std::string sandbox = str_cat("ctltest-", ::getpid(), "-f-", std::string(40, 's'));
  std::string socket_path = str_cat(root, "/runsc-", sandbox, ".sock");
  std::string state_file = str_cat(root, "/", sandbox, "_sandbox:", sandbox, ".state");
  ASSERT_TRUE(
      write_file_atomic(state_file, str_cat(R"({"id":")", sandbox, R"(","sandbox":{)",
                                            R"("controlSocketPath":")", socket_path, R"("}})"))
          .ok());
  {
    FakeControlServer server(
        sandbox,
        [](int fd) {
          (void)read_request(fd);
          std::string reply = R"({"success":true,"err":"","result":1792})";
          ASSERT_EQ(::write(fd, reply.data(), reply.size()), static_cast<ssize_t>(reply.size()));
        },
        socket_path);
    auto code = wait_on(**reactor, sandbox, "app1", root);
    ASSERT_TRUE(code.ok()) << code.error().message();
    EXPECT_EQ(*code, 7);
  }
  ::unlink(state_file.c_str());
  ::rmdir(root.c_str());
  ::rmdir(dir);
}

TEST(WaitViaControl, SandboxGoneIsUnavailable) {
  auto reactor = Reactor::create();
  ASSERT_TRUE(reactor.ok());
  std::string sandbox = str_cat("ctltest-", ::getpid(), "-b");
  FakeControlServer server(sandbox, [](int fd) { (void)read_request(fd); });
  auto code = wait_on(**reactor, sandbox, "app1");
  ASSERT_FALSE(code.ok());
  EXPECT_EQ(code.error().code(), Code::kUnavailable);
}

TEST(WaitViaControl, SandboxErrorIsReported) {
  auto reactor = Reactor::create();
  ASSERT_TRUE(reactor.ok());
  std::string sandbox = str_cat("ctltest-", ::getpid(), "-c");
  FakeControlServer server(sandbox, [](int fd) {
    (void)read_request(fd);
    std::string reply = R"({"success":false,"err":"container \"app1\" not found","result":null})";
    ASSERT_EQ(::write(fd, reply.data(), reply.size()), static_cast<ssize_t>(reply.size()));
  });
  auto code = wait_on(**reactor, sandbox, "app1");
  ASSERT_FALSE(code.ok());
  EXPECT_NE(code.error().message().find("not found"), std::string::npos);
}

// Not a lambda: GCC 12 mishandles capturing lambda coroutines.
Task<void> two_calls(Reactor* reactor, const UniqueFd* socket, std::vector<int> fds,
                     std::optional<Result<nlohmann::json>>* first,
                     std::optional<Result<nlohmann::json>>* second) {
  std::string request1 = R"({"method":"m","arg":null})", request2 = R"({"method":"m","arg":1})";
  first->emplace(co_await control_call(*reactor, *socket, request1, std::move(fds)));
  std::vector<int> none;
  second->emplace(
      co_await control_call(*reactor, *socket, request2, none, std::chrono::milliseconds(100)));
  reactor->stop();
}

// What ExecuteAsync needs: the stdio fds ride on the request's first byte, where the server
// reads them, and a call with a deadline gives up when nothing answers.
TEST(ControlCall, SendsFdsWithTheRequestAndGivesUpAtTheDeadline) {
  auto reactor = Reactor::create();
  ASSERT_TRUE(reactor.ok());
  std::string sandbox = str_cat("ctltest-", ::getpid(), "-d");
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  std::string got_request, got_through_fd;
  int got_fds = 0;
  FakeControlServer server(sandbox, [&](int fd) {
    char buffer[512];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    iovec iov{buffer, sizeof buffer};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    ASSERT_GT(n, 0);
    got_request.assign(buffer, static_cast<size_t>(n));
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_type != SCM_RIGHTS) continue;
      got_fds = static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      int first;
      std::memcpy(&first, CMSG_DATA(c), sizeof first);
      char text[16] = {};
      ASSERT_GT(::read(first, text, sizeof text), 0);  // the pipe's read end: ours to read
      got_through_fd = text;
      for (int i = 0; i < got_fds; ++i) {
        int each;
        std::memcpy(&each, CMSG_DATA(c) + i * sizeof(int), sizeof each);
        ::close(each);
      }
    }
    std::string reply = R"({"success":true,"err":"","result":42})";
    ASSERT_EQ(::write(fd, reply.data(), reply.size()), static_cast<ssize_t>(reply.size()));
    // The second call on this connection is never answered: its deadline ends it.
    (void)read_request(fd);
    std::this_thread::sleep_for(400ms);
  });
  ASSERT_EQ(::write(pipe_fds[1], "via fd", 6), 6);
  auto socket = connect_sandbox_control(kNoStateRoot, sandbox);
  ASSERT_TRUE(socket.ok()) << socket.error().message();
  std::optional<Result<nlohmann::json>> first, second;
  std::vector<int> fds = {pipe_fds[0], pipe_fds[1], pipe_fds[0]};
  (*reactor)->post(
      [&] { spawn(two_calls(reactor->get(), &*socket, std::move(fds), &first, &second)); });
  auto guard = (*reactor)->call_after(10s, [&] { (*reactor)->stop(); });
  ASSERT_TRUE((*reactor)->run().ok());
  (*reactor)->cancel(guard);
  ASSERT_TRUE(first && first->ok());
  EXPECT_EQ(**first, 42);
  EXPECT_EQ(got_request, R"({"method":"m","arg":null})");
  EXPECT_EQ(got_fds, 3);
  EXPECT_EQ(got_through_fd, "via fd");
  ASSERT_TRUE(second && !second->ok());
  EXPECT_EQ(second->error().code(), Code::kDeadlineExceeded);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

}  // namespace
}  // namespace shim
