// binary:// loggers: the container's pipes go straight to the logger, no copying in the shim.
#include <signal.h>

#include "base/file.h"
#include "io/process_io.h"
#include "test_util.h"

namespace shim::io {
namespace {

using namespace std::chrono_literals;
using testing::Loop;
using testing::TempDir;

Task<void> attach(ProcessIo* io, bool* attached) {
  auto r = co_await io->attach();
  *attached = r.ok();
}

TEST(BinaryLogger, GetsStdoutAndStderrAndItsEnvironment) {
  Loop loop;
  TempDir dir;
  int before = testing::count_fds();
  std::string uri = std::string("binary://") + IO_TEST_LOGGER + "?out=" + (dir / "out") +
                    "&err=" + (dir / "err") + "&env=" + (dir / "env");
  StdioConfig config;
  config.stdout_path = config.stderr_path = uri;
  auto io = ProcessIo::open(*loop.reactor, *loop.reaper, config, "ns1", "c1");
  ASSERT_TRUE(io.ok()) << io.error().message();
  pid_t pid = (*io)->logger_pid();
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(loop.reaper->watching(pid));
  ASSERT_EQ(::write((*io)->child_stdout(), "to stdout\n", 10), 10);
  ASSERT_EQ(::write((*io)->child_stderr(), "to stderr\n", 10), 10);

  bool attached = false;
  EXPECT_TRUE(loop.run(attach(io->get(), &attached)));
  EXPECT_TRUE(attached);
  // attach() closed the shim's write ends, so the logger sees EOF and exits by itself.
  EXPECT_TRUE(loop.run_until([&] { return !loop.reaper->watching(pid); }));
  EXPECT_EQ(::kill(pid, 0), -1);  // reaped, not a zombie
  EXPECT_EQ(*read_file(dir / "out"), "to stdout\n");
  EXPECT_EQ(*read_file(dir / "err"), "to stderr\n");
  auto env = read_file(dir / "env");
  EXPECT_NE(env->find("CONTAINER_ID=c1\n"), std::string::npos) << *env;
  EXPECT_NE(env->find("CONTAINER_NAMESPACE=ns1\n"), std::string::npos) << *env;
  io->reset();
  EXPECT_EQ(testing::count_fds(), before);
}

TEST(BinaryLogger, MissingBinaryFailsOpen) {
  Loop loop;
  StdioConfig config;
  config.stdout_path = "binary:///nonexistent/logger";
  int before = testing::count_fds();
  auto io = ProcessIo::open(*loop.reactor, *loop.reaper, config, "ns1", "c1");
  EXPECT_FALSE(io.ok());
  EXPECT_EQ(testing::count_fds(), before);
}

}  // namespace
}  // namespace shim::io
