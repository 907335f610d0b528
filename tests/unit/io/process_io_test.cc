// ProcessIo with fifos and files, as ctr and containerd hand them to the shim.
#include "io/process_io.h"

#include <sys/ioctl.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "base/file.h"
#include "test_util.h"

namespace shim::io {
namespace {

using namespace std::chrono_literals;
using testing::Loop;
using testing::TempDir;

Task<void> attach_and_drain(ProcessIo* io, std::chrono::milliseconds max, bool* attached) {
  auto r = co_await io->attach();
  *attached = r.ok();
  co_await io->drained(max);
}

Task<void> attach_only(ProcessIo* io, bool* attached) {
  auto r = co_await io->attach();
  *attached = r.ok();
}

std::unique_ptr<ProcessIo> open_io(Loop& loop, const StdioConfig& config) {
  auto io = ProcessIo::open(*loop.reactor, *loop.reaper, config, "ns1", "c1");
  EXPECT_TRUE(io.ok()) << (io.ok() ? "" : io.error().message());
  return io.ok() ? std::move(*io) : nullptr;
}

// Byte i of the stream; period 251 catches lost, repeated or reordered chunks.
char pattern(uint64_t i) { return static_cast<char>((i % 251) ^ 0x5a); }

// The pattern from any offset, precomputed so the test threads cost memcpy speed, not more:
// chunk + (offset % 251) is the stream at offset.
const std::vector<char>& pattern_chunk() {
  static const std::vector<char> chunk = [] {
    std::vector<char> c((1 << 20) + 251);
    for (size_t i = 0; i < c.size(); ++i) c[i] = pattern(i);
    return c;
  }();
  return chunk;
}

void write_pattern(int fd, uint64_t total) {
  const auto& chunk = pattern_chunk();
  uint64_t off = 0;
  while (off < total) {
    size_t n = std::min<uint64_t>(1 << 20, total - off);
    ssize_t w = ::write(fd, chunk.data() + off % 251, n);
    if (w <= 0) return;
    off += static_cast<uint64_t>(w);
  }
}

// Reads to EOF; counts bytes and whether every one matched the pattern.
void read_pattern(int fd, uint64_t* count, bool* exact) {
  const auto& chunk = pattern_chunk();
  std::vector<char> buf(1 << 20);
  *exact = true;
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n <= 0) break;
    *exact = *exact && std::memcmp(buf.data(), chunk.data() + *count % 251, n) == 0;
    *count += static_cast<uint64_t>(n);
  }
}

TEST(ProcessIo, NullStdioGivesDevNull) {
  Loop loop;
  int before = testing::count_fds();
  auto io = open_io(loop, {});
  ASSERT_TRUE(io);
  EXPECT_EQ(io->child_stdin(), -1);
  EXPECT_EQ(io->child_stdout(), -1);
  EXPECT_EQ(io->child_stderr(), -1);
  EXPECT_TRUE(io->console_socket().empty());
  EXPECT_TRUE(io->resize(80, 24).ok());  // no terminal: nothing to do, as with runc's shim
  bool attached = false;
  EXPECT_TRUE(loop.run(attach_and_drain(io.get(), 1s, &attached), 2s));
  EXPECT_TRUE(attached);
  io.reset();
  EXPECT_EQ(testing::count_fds(), before);
}

// Fds without FD_CLOEXEC would leak into runsc and from there into the sandbox.
int count_inheritable_fds() {
  int n = 0;
  for (int fd = 0; fd < 1024; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    n += flags >= 0 && !(flags & FD_CLOEXEC);
  }
  return n;
}

TEST(ProcessIo, EveryFdIsCloseOnExec) {
  Loop loop;
  TempDir dir;
  int inheritable = count_inheritable_fds();
  for (bool terminal : {false, true}) {
    StdioConfig config;
    config.terminal = terminal;
    config.stdin_path = testing::mkfifo_at(dir, terminal ? "in-t" : "in");
    config.stdout_path = testing::mkfifo_at(dir, terminal ? "out-t" : "out");
    config.stderr_path = terminal ? "" : testing::mkfifo_at(dir, "err");
    int out = testing::open_client_reader(config.stdout_path, false);
    int err = terminal ? -1 : testing::open_client_reader(config.stderr_path, false);
    auto io = open_io(loop, config);
    ASSERT_TRUE(io);
    EXPECT_EQ(count_inheritable_fds(), inheritable) << "terminal=" << terminal;
    io.reset();
    ::close(out);
    if (err >= 0) ::close(err);
  }
}

// ctr opens its read side from a goroutine, often after Create arrives: output written
// before the client shows up waits in the fifo, and the client still sees EOF at the end.
TEST(ProcessIo, OutputFifoWhoseReaderComesLateGetsEverything) {
  Loop loop;
  TempDir dir;
  StdioConfig config;
  config.stdout_path = testing::mkfifo_at(dir, "stdout");
  int before = testing::count_fds();
  auto io = open_io(loop, config);
  ASSERT_TRUE(io);
  int container = ::dup(io->child_stdout());
  ASSERT_EQ(::write(container, "early\n", 6), 6);
  ::close(container);

  int client = testing::open_client_reader(config.stdout_path, false);
  std::string got;
  std::thread reader([&] {
    char buf[64];
    ssize_t n;
    while ((n = ::read(client, buf, sizeof buf)) > 0) got.append(buf, n);
  });
  bool attached = false;
  EXPECT_TRUE(loop.run(attach_and_drain(io.get(), 10s, &attached)));
  EXPECT_TRUE(attached);
  io.reset();
  reader.join();  // returns at EOF: no writer (nor our read side) is left
  EXPECT_EQ(got, "early\n");
  ::close(client);
  EXPECT_EQ(testing::count_fds(), before);
}

TEST(ProcessIo, LargeStdoutThroughFifoIsByteExact) {
  constexpr uint64_t kTotal = 64ull << 20;
  Loop loop;
  TempDir dir;
  StdioConfig config;
  config.stdout_path = testing::mkfifo_at(dir, "stdout");
  int client = testing::open_client_reader(config.stdout_path, true);
  int before = testing::count_fds();
  auto io = open_io(loop, config);
  ASSERT_TRUE(io);
  ASSERT_GE(io->child_stdout(), 0);
  EXPECT_EQ(io->child_stderr(), -1);
  // Blocking, as the container's end must be.
  EXPECT_FALSE(::fcntl(io->child_stdout(), F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(::fcntl(io->child_stdout(), F_GETFD) & FD_CLOEXEC);

  int container = ::dup(io->child_stdout());
  uint64_t got = 0;
  bool exact = false;
  auto t0 = std::chrono::steady_clock::now();
  std::thread reader(read_pattern, client, &got, &exact);
  std::thread writer([&] {
    write_pattern(container, kTotal);
    ::close(container);
  });
  bool attached = false;
  EXPECT_TRUE(loop.run(attach_and_drain(io.get(), 30s, &attached)));
  EXPECT_TRUE(attached);
  EXPECT_TRUE(io->output_done());
  writer.join();
  reader.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(got, kTotal);
  EXPECT_TRUE(exact);
  std::printf("[ metric ] 64 MiB through the stdout fifo: %.0f MiB/s\n", 64 / secs);

  // Baseline: the same writer and reader joined by one plain pipe, no shim in between.
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  ::fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
  uint64_t base_got = 0;
  bool base_exact = false;
  t0 = std::chrono::steady_clock::now();
  std::thread base_reader(read_pattern, p[0], &base_got, &base_exact);
  write_pattern(p[1], kTotal);
  ::close(p[1]);
  base_reader.join();
  ::close(p[0]);
  double base = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ metric ] 64 MiB through one plain pipe: %.0f MiB/s (shim path at %.0f%%)\n",
              64 / base, 100 * base / secs);

  io.reset();
  EXPECT_EQ(testing::count_fds(), before);
  ::close(client);
}

TEST(ProcessIo, ReaderVanishingDoesNotBlockTheContainer) {
  constexpr uint64_t kTotal = 16ull << 20;
  Loop loop;
  TempDir dir;
  StdioConfig config;
  config.stdout_path = testing::mkfifo_at(dir, "stdout");
  int client = testing::open_client_reader(config.stdout_path, true);
  auto io = open_io(loop, config);
  ASSERT_TRUE(io);
  int container = ::dup(io->child_stdout());
  std::atomic<bool> wrote_all = false;
  std::thread reader([&] {
    char buf[4096];
    ASSERT_GT(::read(client, buf, sizeof buf), 0);
    ::close(client);  // ctr went away
  });
  std::thread writer([&] {
    write_pattern(container, kTotal);  // would block forever if nobody drained the pipe
    ::close(container);
    wrote_all = true;
  });
  bool attached = false;
  EXPECT_TRUE(loop.run(attach_and_drain(io.get(), 20s, &attached)));
  EXPECT_TRUE(io->output_done());
  reader.join();
  writer.join();
  EXPECT_TRUE(wrote_all);
}

// containerd's semantics, kept by runc's shim: a client closing its stdin writer (a detaching
// `ctr task attach`, a Go client whose reader hit EOF) is not the process's EOF; CloseIO is.
TEST(ProcessIo, StdinEndsAtCloseIoNotWhenTheClientCloses) {
  Loop loop;
  TempDir dir;
  StdioConfig config;
  config.stdin_path = testing::mkfifo_at(dir, "stdin");
  int before = testing::count_fds();
  auto io = open_io(loop, config);
  ASSERT_TRUE(io);
  int container = ::dup(io->child_stdin());
  testing::set_nonblocking(container);

  // No writer has opened the fifo yet: that must not look like EOF.
  loop.run_until([] { return false; }, 50ms);
  EXPECT_FALSE(testing::hung_up(container));

  int client = ::open(config.stdin_path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(client, 0);
  ASSERT_EQ(::write(client, "hello\n", 6), 6);
  std::string got;
  bool attached = false;
  EXPECT_TRUE(loop.run(attach_only(io.get(), &attached)));
  EXPECT_TRUE(
      loop.run_until([&] { return got.size() == 6 || testing::read_available(container, got); }));
  EXPECT_EQ(got, "hello\n");
  EXPECT_FALSE(testing::hung_up(container));
  ::close(client);
  loop.run_until([] { return false; }, 300ms);
  EXPECT_FALSE(testing::hung_up(container));
  EXPECT_FALSE(testing::read_available(container, got));
  io->close_stdin();
  EXPECT_TRUE(loop.run_until([&] { return testing::read_available(container, got); }));
  EXPECT_EQ(got, "hello\n");
  ::close(container);
  io.reset();
  EXPECT_EQ(testing::count_fds(), before);
}

TEST(ProcessIo, CloseStdinDeliversPendingBytesThenEof) {
  Loop loop;
  TempDir dir;
  StdioConfig config;
  config.stdin_path = testing::mkfifo_at(dir, "stdin");
  auto io = open_io(loop, config);
  ASSERT_TRUE(io);
  int container = ::dup(io->child_stdin());
  testing::set_nonblocking(container);
  int client = ::open(config.stdin_path.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_EQ(::write(client, "abc", 3), 3);
  // ctr keeps its writer open and says CloseIO instead; the bytes may still sit in the fifo.
  io->close_stdin();
  std::string got;
  EXPECT_TRUE(loop.run_until([&] { return testing::read_available(container, got); }));
  EXPECT_EQ(got, "abc");
  ::close(client);
  ::close(container);
}

// runc's IoUid/IoGid: what the process reads and writes belongs to that user, so a process in
// a user namespace can reopen /dev/stdout (or, under gVisor, so runsc may pass it on).
TEST(ProcessIo, ChildEndsBelongToTheIoOwner) {
  Loop loop;
  TempDir dir;
  StdioConfig config;
  config.stdin_path = testing::mkfifo_at(dir, "stdin");
  config.stdout_path = dir / "out";
  config.stderr_path = dir / "err";
  std::ofstream(config.stdout_path).close();
  std::ofstream(config.stderr_path).close();
  config.io_uid = 1000;
  config.io_gid = 2000;
  auto io = open_io(loop, config);
  ASSERT_TRUE(io);
  for (int fd : {io->child_stdin(), io->child_stdout(), io->child_stderr()}) {
    struct stat st;
    ASSERT_EQ(::fstat(fd, &st), 0);
    EXPECT_EQ(st.st_uid, 1000u);
    EXPECT_EQ(st.st_gid, 2000u);
  }
  // Without an owner, they stay ours.
  config.io_uid = config.io_gid = 0;
  config.stdin_path = testing::mkfifo_at(dir, "stdin2");
  auto plain = open_io(loop, config);
  ASSERT_TRUE(plain);
  struct stat st;
  ASSERT_EQ(::fstat(plain->child_stdout(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());
}

TEST(ProcessIo, CloseStdinWithoutAnyWriter) {
  Loop loop;
  TempDir dir;
  StdioConfig config;
  config.stdin_path = testing::mkfifo_at(dir, "stdin");
  auto io = open_io(loop, config);
  ASSERT_TRUE(io);
  int container = ::dup(io->child_stdin());
  testing::set_nonblocking(container);
  io->close_stdin();
  std::string got;
  EXPECT_TRUE(loop.run_until([&] { return testing::read_available(container, got); }, 2s));
  EXPECT_EQ(got, "");
  ::close(container);
}

TEST(ProcessIo, SameFifoForStdoutAndStderr) {
  Loop loop;
  TempDir dir;
  StdioConfig config;
  config.stdout_path = config.stderr_path = testing::mkfifo_at(dir, "out");
  int client = testing::open_client_reader(config.stdout_path, false);
  int before = testing::count_fds();
  auto io = open_io(loop, config);
  ASSERT_TRUE(io);
  ASSERT_GE(io->child_stderr(), 0);
  ASSERT_NE(io->child_stdout(), io->child_stderr());
  ASSERT_EQ(::write(io->child_stdout(), "out1;", 5), 5);
  ASSERT_EQ(::write(io->child_stderr(), "err1;", 5), 5);
  int err = ::dup(io->child_stderr());
  bool attached = false;
  EXPECT_TRUE(loop.run(attach_only(io.get(), &attached)));
  std::string got;
  EXPECT_TRUE(loop.run_until([&] {
    testing::read_available(client, got);
    return got.size() >= 10;
  }));
  // stdout is finished, stderr still has a writer: the client must not see EOF yet.
  EXPECT_FALSE(testing::read_available(client, got));
  EXPECT_FALSE(io->output_done());
  ASSERT_EQ(::write(err, "err2", 4), 4);
  ::close(err);
  EXPECT_TRUE(loop.run_until([&] { return testing::read_available(client, got); }));
  EXPECT_EQ(got.size(), 14u);
  EXPECT_NE(got.find("out1;"), std::string::npos);
  EXPECT_NE(got.find("err1;"), std::string::npos);
  EXPECT_EQ(got.substr(10), "err2");
  EXPECT_TRUE(io->output_done());
  io.reset();
  EXPECT_EQ(testing::count_fds(), before);
  ::close(client);
}

TEST(ProcessIo, FileUriAppendsAndCreatesDirectories) {
  Loop loop;
  TempDir dir;
  std::string log = dir / "logs/c1/out.log";
  StdioConfig config;
  config.stdout_path = config.stderr_path = "file://" + log;
  int before = testing::count_fds();
  for (const char* round : {"1", "2"}) {
    auto io = open_io(loop, config);
    ASSERT_TRUE(io);
    ASSERT_EQ(::write(io->child_stdout(), "out", 3), 3);
    ASSERT_EQ(::write(io->child_stderr(), round, 1), 1);
    bool attached = false;
    EXPECT_TRUE(loop.run(attach_and_drain(io.get(), 5s, &attached)));
    EXPECT_TRUE(io->output_done());
  }
  auto content = read_file(log);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(content->size(), 8u);
  EXPECT_EQ(content->substr(0, 4).find('1') != std::string::npos, true) << *content;
  EXPECT_EQ(content->substr(4).find('2') != std::string::npos, true) << *content;
  EXPECT_EQ(testing::count_fds(), before);
}

TEST(ProcessIo, PlainFilePathIsAppendedTo) {
  Loop loop;
  TempDir dir;
  std::string path = dir / "existing";
  ASSERT_TRUE(write_file_atomic(path, "old\n").ok());
  StdioConfig config;
  config.stdout_path = path;
  auto io = open_io(loop, config);
  ASSERT_TRUE(io);
  ASSERT_EQ(::write(io->child_stdout(), "new\n", 4), 4);
  bool attached = false;
  EXPECT_TRUE(loop.run(attach_and_drain(io.get(), 5s, &attached)));
  EXPECT_EQ(*read_file(path), "old\nnew\n");
}

TEST(ProcessIo, DrainedWaitsUntilTheClientHasReadTheFifo) {
  Loop loop;
  TempDir dir;
  StdioConfig config;
  config.stdout_path = testing::mkfifo_at(dir, "stdout");
  int client = testing::open_client_reader(config.stdout_path, false);
  auto io = open_io(loop, config);
  ASSERT_TRUE(io);
  std::string data(100000, 'x');
  ASSERT_EQ(::write(io->child_stdout(), data.data(), data.size()), ssize_t(data.size()));
  bool attached = false;
  EXPECT_TRUE(loop.run(attach_only(io.get(), &attached)));
  // All of it sits in the fifo now, unread: not delivered yet.
  loop.run_until([] { return false; }, 30ms);
  EXPECT_FALSE(io->output_done());
  std::string got;
  EXPECT_TRUE(loop.run_until([&] {
    testing::read_available(client, got);
    return io->output_done();
  }));
  int unread = -1;
  ASSERT_EQ(::ioctl(client, FIONREAD, &unread), 0);
  EXPECT_EQ(unread, 0);
  EXPECT_TRUE(loop.run_until([&] { return testing::read_available(client, got); }));
  EXPECT_EQ(got.size(), data.size());
  ::close(client);
}

TEST(ProcessIo, DrainedGivesUpAtTheDeadline) {
  Loop loop;
  TempDir dir;
  StdioConfig config;
  config.stdout_path = testing::mkfifo_at(dir, "stdout");
  int client = testing::open_client_reader(config.stdout_path, false);
  auto io = open_io(loop, config);
  ASSERT_TRUE(io);
  int lingering = ::dup(io->child_stdout());  // a holder that never goes away
  bool attached = false;
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(loop.run(attach_and_drain(io.get(), 100ms, &attached)));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 100ms);
  EXPECT_FALSE(io->output_done());
  ::close(lingering);
  ::close(client);
}

}  // namespace
}  // namespace shim::io
