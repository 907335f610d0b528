// The async driver against fake runsc scripts (tests/fake_runsc): real child processes on a
// real reactor, with deadlines short enough for a unit test.
#include "runsc/runsc.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>

#include "base/file.h"
#include "base/strings.h"
#include "runsc/argv.h"

namespace shim {
namespace {

using namespace std::chrono_literals;

// Awaits `task`, stores its result and stops the loop: the test's `main` coroutine.
template <class T>
Task<void> drive(Task<T> task, std::optional<T>* out, Reactor* reactor) {
  out->emplace(co_await std::move(task));
  reactor->stop();
}

class RunscDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/runsc-driver-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    bundle_ = dir_ + "/bundle";
    ASSERT_EQ(::mkdir(bundle_.c_str(), 0755), 0);
    auto reactor = Reactor::create();
    ASSERT_TRUE(reactor.ok());
    reactor_ = std::move(*reactor);
    auto reaper = ChildReaper::create(*reactor_);
    ASSERT_TRUE(reaper.ok());
    reaper_ = std::move(*reaper);
    runner_ = std::make_unique<CommandRunner>(*reactor_, *reaper_);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  Runsc make(const char* script, RunscTimeouts timeouts = {}) {
    ShimConfig config;
    config.binary_name = str_cat(FAKE_RUNSC_DIR, "/", script);
    config.root = dir_ + "/root";
    config.runsc_flags = {{"network", "none"}};
    auto runsc = Runsc::for_sandbox(*runner_, config, "default", "c1", bundle_, timeouts);
    EXPECT_TRUE(runsc.ok());
    return std::move(*runsc);
  }

  // Runs the reactor until `task` finishes (or a 10 s safety net fires).
  template <class T>
  T await(Task<T> task) {
    std::optional<T> out;
    // Started from inside the loop: a task that finishes without suspending (spawn failed)
    // would otherwise call stop() before run() began, and run() would wait for the guard.
    reactor_->post([&] { spawn(drive(std::move(task), &out, reactor_.get())); });
    auto guard = reactor_->call_after(10s, [this] { reactor_->stop(); });
    EXPECT_TRUE(reactor_->run().ok());
    reactor_->cancel(guard);
    EXPECT_TRUE(out.has_value()) << "task did not finish";
    return std::move(*out);
  }

  std::string calls(const Runsc& runsc) {
    auto text = read_file(runsc.state_root() + "/calls");
    return text.ok() ? *text : "";
  }

  std::string dir_, bundle_;
  std::unique_ptr<Reactor> reactor_;
  std::unique_ptr<ChildReaper> reaper_;
  std::unique_ptr<CommandRunner> runner_;
};

TEST_F(RunscDriverTest, CreateMakesPerSandboxRootAndReadsPid) {
  Runsc runsc = make("ok.sh");
  EXPECT_EQ(runsc.state_root(), dir_ + "/root/default/c1");
  EXPECT_EQ(runsc.log_path(), bundle_ + "/log.json");
  auto pid = await(runsc.create("c1", bundle_, bundle_ + "/init.pid", {}));
  ASSERT_TRUE(pid.ok()) << pid.error().message();
  EXPECT_EQ(*pid, 4242);
  struct stat st;
  ASSERT_EQ(::stat(runsc.state_root().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0711u);
  EXPECT_EQ(calls(runsc),
            str_cat("create --bundle ", bundle_, " --pid-file ", bundle_, "/init.pid c1\n"));
}

TEST_F(RunscDriverTest, QueriesParseOutput) {
  Runsc runsc = make("ok.sh");
  auto state = await(runsc.state("c1"));
  ASSERT_TRUE(state.ok()) << state.error().message();
  EXPECT_EQ(state->id, "c1");
  EXPECT_EQ(state->status, "running");
  EXPECT_EQ(state->pid, 4242);
  auto pids = await(runsc.ps("c1"));
  ASSERT_TRUE(pids.ok()) << pids.error().message();
  EXPECT_EQ(*pids, (std::vector<pid_t>{1, 7}));
  auto stats = await(runsc.events_stats("c1"));
  ASSERT_TRUE(stats.ok());
  EXPECT_NE(stats->find("\"type\":\"stats\""), std::string::npos);
}

TEST_F(RunscDriverTest, ExecReadsBothPidsAndWatchesTheWaiter) {
  Runsc runsc = make("ok.sh");
  auto pids =
      await(runsc.exec("c1", bundle_ + "/p.json", bundle_ + "/e.pid", bundle_ + "/e.ipid", {}));
  ASSERT_TRUE(pids.ok()) << pids.error().message();
  EXPECT_GT(pids->waiter, 0);
  EXPECT_EQ(pids->internal, 7);
  // The waiter is runsc itself, in the foreground: its exit is the process's.
  std::optional<ExitStatus> status;
  pids->exited.then([&](const ExitStatus& s) {
    status = s;
    reactor_->stop();
  });
  if (!status) {
    auto guard = reactor_->call_after(10s, [this] { reactor_->stop(); });
    EXPECT_TRUE(reactor_->run().ok());
    reactor_->cancel(guard);
  }
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->code, 0);
  EXPECT_NE(calls(runsc).find("exec --process "), std::string::npos) << calls(runsc);
  EXPECT_EQ(calls(runsc).find("--detach"), std::string::npos) << calls(runsc);
}

TEST_F(RunscDriverTest, ExecThatFailsBeforeRunningReportsTheLog) {
  Runsc runsc = make("fail.sh");
  auto pids =
      await(runsc.exec("c1", bundle_ + "/p.json", bundle_ + "/e.pid", bundle_ + "/e.ipid", {}));
  ASSERT_FALSE(pids.ok());
  EXPECT_EQ(pids.error().message(), "runsc exec: exec failed");
}

TEST_F(RunscDriverTest, ExecThatNeverStartsIsKilledAtTheDeadline) {
  RunscTimeouts timeouts;
  timeouts.medium = 300ms;
  Runsc runsc = make("hang.sh", timeouts);
  auto pids =
      await(runsc.exec("c1", bundle_ + "/p.json", bundle_ + "/e.pid", bundle_ + "/e.ipid", {}));
  ASSERT_FALSE(pids.ok());
  EXPECT_EQ(pids.error().code(), Code::kDeadlineExceeded);
  auto hung = read_file(runsc.state_root() + "/hang.pid");
  ASSERT_TRUE(hung.ok());
  pid_t pid = 0;
  ASSERT_TRUE(parse_int(trim(*hung), pid));
  EXPECT_TRUE(::kill(pid, 0) != 0 && errno == ESRCH) << "the hung runsc is still there";
}

TEST_F(RunscDriverTest, SimpleCallsSucceed) {
  Runsc runsc = make("ok.sh");
  EXPECT_TRUE(await(runsc.start("c1")).ok());
  EXPECT_TRUE(await(runsc.kill("c1", 9, true, 7)).ok());
  EXPECT_TRUE(await(runsc.pause("c1")).ok());
  EXPECT_TRUE(await(runsc.resume("c1")).ok());
  EXPECT_TRUE(await(runsc.checkpoint("c1", dir_ + "/img", true)).ok());
  auto restored = await(runsc.restore("c1", bundle_, dir_ + "/img", bundle_ + "/r.pid", {}));
  ASSERT_TRUE(restored.ok()) << restored.error().message();
  EXPECT_EQ(*restored, 4242);
  EXPECT_TRUE(await(runsc.remove("c1", true)).ok());
  EXPECT_EQ(calls(runsc),
            str_cat("start c1\n", "kill --all --pid 7 c1 9\n", "pause c1\n", "resume c1\n",
                    "checkpoint --image-path ", dir_, "/img --leave-running c1\n",
                    "restore --detach --bundle ", bundle_, " --image-path ", dir_,
                    "/img --pid-file ", bundle_, "/r.pid c1\n", "delete --force c1\n"));
}

TEST_F(RunscDriverTest, FailureReportsLogMessageAndCode) {
  Runsc runsc = make("fail.sh");
  auto state = await(runsc.state("c1"));
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.error().code(), Code::kNotFound);
  EXPECT_EQ(state.error().message(), "runsc state: loading container: file does not exist");

  auto start = await(runsc.start("c1"));
  ASSERT_FALSE(start.ok());
  EXPECT_EQ(start.error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(start.error().message(),
            "runsc start: starting container: cannot start container \"c1\" in state stopped");

  auto create = await(runsc.create("c1", bundle_, bundle_ + "/init.pid", {}));
  ASSERT_FALSE(create.ok());
  EXPECT_EQ(create.error().code(), Code::kUnknown);
  EXPECT_EQ(create.error().message(),
            "runsc create: creating container: cannot create sandbox: something broke");
}

TEST_F(RunscDriverTest, OldLogErrorsAreNotReported) {
  // An error from an earlier call is already in log.json; this call writes none.
  ASSERT_TRUE(
      write_file_atomic(bundle_ + "/log.json", R"({"msg":"old news","level":"error","time":"t"})")
          .ok());
  Runsc runsc = make("fail.sh");
  auto pause = await(runsc.pause("c1"));
  ASSERT_FALSE(pause.ok());
  EXPECT_EQ(pause.error().message(), "runsc pause: exit status 3");
  EXPECT_EQ(pause.error().code(), Code::kUnknown);
}

TEST_F(RunscDriverTest, PanicOnStderrIsTheFallback) {
  Runsc runsc = make("panic.sh");
  auto removed = await(runsc.remove("c1", true));
  ASSERT_FALSE(removed.ok());
  EXPECT_EQ(removed.error().message(),
            "runsc delete: panic: invalid state transition: paused => stopped");
}

TEST_F(RunscDriverTest, HungRunscIsKilledAtTheDeadline) {
  RunscTimeouts timeouts;
  timeouts.quick = 300ms;
  Runsc runsc = make("hang.sh", timeouts);
  auto begin = std::chrono::steady_clock::now();
  auto state = await(runsc.state("c1"));
  auto elapsed = std::chrono::steady_clock::now() - begin;
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.error().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(state.error().message(), "runsc state timed out after 0.3s");
  EXPECT_GE(elapsed, 300ms);
  EXPECT_LT(elapsed, 3s);
  // The hung process is gone (killed and reaped), not left behind as a zombie or orphan.
  auto pid_text = read_file(runsc.state_root() + "/hang.pid");
  ASSERT_TRUE(pid_text.ok());
  pid_t pid = 0;
  ASSERT_TRUE(parse_int(trim(*pid_text), pid));
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(RunscDriverTest, GarbledOutputIsAClearError) {
  Runsc runsc = make("garbled.sh");
  auto state = await(runsc.state("c1"));
  ASSERT_FALSE(state.ok());
  EXPECT_NE(state.error().message().find("runsc state: output is not a JSON object"),
            std::string::npos)
      << state.error().message();
  auto pids = await(runsc.ps("c1"));
  ASSERT_FALSE(pids.ok());
  EXPECT_NE(pids.error().message().find("not a JSON array"), std::string::npos);
  // Exit 0 without a pid file: runsc misbehaved, which is not "container not found".
  auto create = await(runsc.create("c1", bundle_, bundle_ + "/init.pid", {}));
  ASSERT_FALSE(create.ok());
  EXPECT_EQ(create.error().code(), Code::kInternal);
  EXPECT_NE(create.error().message().find("runsc create: open "), std::string::npos)
      << create.error().message();
}

TEST_F(RunscDriverTest, MissingBinaryIsAnError) {
  Runsc runsc = make("absent.sh");
  auto start = await(runsc.start("c1"));
  ASSERT_FALSE(start.ok());
  EXPECT_EQ(start.error().code(), Code::kInternal);
  EXPECT_TRUE(start.error().message().starts_with("runsc start: start "))
      << start.error().message();
}

}  // namespace
}  // namespace shim
