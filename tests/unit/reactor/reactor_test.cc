// The reactor, coroutines, the child reaper and commands with deadlines, on real processes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "reactor/child_reaper.h"
#include "reactor/command.h"
#include "reactor/deadline.h"
#include "reactor/path_appearance_watch.h"
#include "common/run_task.h"
#include "reactor/reactor.h"
#include "reactor/task.h"

namespace shim {
namespace {

using namespace std::chrono_literals;

class ReactorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reactor_ = std::move(*Reactor::create());
    reaper_ = std::move(*ChildReaper::create(*reactor_));
    runner_ = std::make_unique<CommandRunner>(*reactor_, *reaper_);
  }
  // Runs the loop until `task` completes (or a safety timeout fires).
  void run(Task<void> task) {
    ASSERT_TRUE(testing::run_task(*reactor_, std::move(task))) << "task did not finish";
  }

  std::unique_ptr<Reactor> reactor_;
  std::unique_ptr<ChildReaper> reaper_;
  std::unique_ptr<CommandRunner> runner_;
};

Task<void> exit_code_of(CommandRunner& runner, std::vector<std::string> argv, int& code,
                        std::string& out, bool& timed_out, std::chrono::milliseconds timeout) {
  CommandOptions options;
  options.spawn.argv = std::move(argv);
  options.capture_stdout = true;
  options.timeout = timeout;
  auto r = co_await runner.run(std::move(options));
  code = r ? r->exit.code : -1;
  out = r ? r->stdout_data : "";
  timed_out = r && r->timed_out;
}

TEST_F(ReactorTest, CommandExitCodesAndOutput) {
  int code = -1;
  std::string out;
  bool timed_out = false;
  run(exit_code_of(*runner_, {"sh", "-c", "echo hi; exit 7"}, code, out, timed_out, 5s));
  EXPECT_EQ(code, 7);
  EXPECT_EQ(out, "hi\n");
  EXPECT_FALSE(timed_out);
  run(exit_code_of(*runner_, {"true"}, code, out, timed_out, 5s));
  EXPECT_EQ(code, 0);
}

TEST_F(ReactorTest, HungCommandIsKilledAtItsDeadline) {
  int code = -1;
  std::string out;
  bool timed_out = false;
  auto start = std::chrono::steady_clock::now();
  run(exit_code_of(*runner_, {"sleep", "30"}, code, out, timed_out, 200ms));
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(code, 128 + SIGKILL);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(ReactorTest, ExitBeforeWatchIsStillDelivered) {
  // The child exits and is reaped before anyone watches it (a pid read from a pid file).
  SpawnOptions spawn_options;
  spawn_options.argv = {"sh", "-c", "exit 5"};
  pid_t pid = *spawn_process(spawn_options);
  usleep(100000);
  reaper_->reap_ready();
  int code = -1;
  reaper_->on_exit(pid, [&](ExitStatus s) {
    code = s.code;
    reactor_->stop();
  });
  (void)reactor_->run();
  EXPECT_EQ(code, 5);
}

Task<void> wait_two(Oneshot<int> a, int& seen) {
  seen += co_await a;
}

TEST_F(ReactorTest, OneshotWakesEveryWaiter) {
  Oneshot<int> signal;
  int seen = 0;
  spawn(wait_two(signal, seen));
  spawn(wait_two(signal, seen));
  reactor_->post([&] { signal.set(21); });
  reactor_->call_after(10ms, [this] { reactor_->stop(); });
  (void)reactor_->run();
  EXPECT_EQ(seen, 42);
}

Task<void> deadline_case(Reactor& reactor, Oneshot<int> signal, bool& in_time) {
  in_time = co_await wait_with_deadline(reactor, signal, 50ms);
}

TEST_F(ReactorTest, DeadlineExpiresOrNot) {
  Oneshot<int> never;
  bool in_time = true;
  run(deadline_case(*reactor_, never, in_time));
  EXPECT_FALSE(in_time);
  Oneshot<int> soon;
  reactor_->call_after(5ms, [soon] { soon.set(1); });
  run(deadline_case(*reactor_, soon, in_time));
  EXPECT_TRUE(in_time);
}

TEST_F(ReactorTest, RemoveInsideCallbackIsSafe) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  int calls = 0;
  ASSERT_TRUE(reactor_->add(fds[0], EPOLLIN, [&](uint32_t) {
    ++calls;
    reactor_->remove(fds[0]);
    reactor_->post([this] { reactor_->stop(); });
  }).ok());
  ASSERT_EQ(write(fds[1], "x", 1), 1);
  (void)reactor_->run();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(reactor_->watched_fds(), 1u);  // only the reaper's signalfd is left
  close(fds[0]);
  close(fds[1]);
}

// Several fds ready in one epoll batch: each callback runs once, with its own events. The
// batch's epoll_event array is packed on x86-64 (its u64 token sits at offset 4); under
// clang's UBSan the lookup once bound a misaligned reference to it (fuzz_task_server).
TEST_F(ReactorTest, EveryFdOfOneBatchReachesItsCallback) {
  constexpr int kPipes = 5;
  int fds[kPipes][2];
  int calls[kPipes] = {};
  for (int i = 0; i < kPipes; ++i) {
    ASSERT_EQ(pipe2(fds[i], O_CLOEXEC | O_NONBLOCK), 0);
    ASSERT_TRUE(reactor_->add(fds[i][0], EPOLLIN, [&calls, i](uint32_t events) {
      EXPECT_TRUE(events & EPOLLIN);
      ++calls[i];
    }).ok());
    ASSERT_EQ(write(fds[i][1], "x", 1), 1);
  }
  reactor_->post([this] { reactor_->stop(); });
  (void)reactor_->run();
  for (int i = 0; i < kPipes; ++i) {
    EXPECT_EQ(calls[i], 1) << "pipe " << i;
    reactor_->remove(fds[i][0]);
    close(fds[i][0]);
    close(fds[i][1]);
  }
}

// Turns the loop until nothing is ready (the watch reads its inotify events on a turn).
void settle(Reactor& r) {
  r.call_after(std::chrono::milliseconds(5), [&r] { r.stop(); });
  (void)r.run();
}

TEST_F(ReactorTest, PathAppearanceWatchFollowsFoldersThatComeAndGo) {
  char tmpl[] = "/tmp/path-watch-XXXXXX";
  std::string top = ::mkdtemp(tmpl);
  std::string dir = top + "/a";
  std::string path = dir + "/sock";
  int changes = 0;
  auto watch = PathAppearanceWatch::create(*reactor_, path, [&] { ++changes; });
  ASSERT_TRUE(watch.ok()) << watch.error().message();
  EXPECT_EQ((*watch)->watched_dir(), top);  // a/ is missing: its parent is watched
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  settle(*reactor_);
  EXPECT_EQ((*watch)->watched_dir(), dir);
  EXPECT_EQ(changes, 1);
  // Other names in the folder are no news.
  ::close(::open((dir + "/other").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  settle(*reactor_);
  EXPECT_EQ(changes, 1);
  ::close(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  settle(*reactor_);
  EXPECT_EQ(changes, 2);
  // The folder goes: the watch climbs back up, and comes down again when it returns.
  ASSERT_EQ(std::system(("rm -rf " + dir).c_str()), 0);
  settle(*reactor_);
  EXPECT_EQ((*watch)->watched_dir(), top);
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  settle(*reactor_);
  EXPECT_EQ((*watch)->watched_dir(), dir);
  int before = changes;
  ::close(::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  settle(*reactor_);
  EXPECT_EQ(changes, before + 1);
  watch->reset();
  (void)std::system(("rm -rf " + top).c_str());
}

}  // namespace
}  // namespace shim
