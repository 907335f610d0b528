// The OOM watcher on fake trees: v2's inotify path end to end, v1's counter check (a plain file
// cannot signal an eventfd; the root test covers that for real).
#include "cgroups/oom_watcher.h"

#include <gtest/gtest.h>

#include <chrono>

#include "fake_tree.h"

namespace shim {
namespace {

using namespace std::chrono_literals;
using testing::FakeTree;

class OomWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override { reactor = std::move(*Reactor::create()); }
  // Runs the loop for `d`.
  void run_for(std::chrono::milliseconds d) {
    auto id = reactor->call_after(d, [this] { reactor->stop(); });
    ASSERT_TRUE(reactor->run());
    reactor->cancel(id);
  }
  std::unique_ptr<Reactor> reactor;
};

TEST_F(OomWatcherTest, V2FiresWhenOomKillGrows) {
  FakeTree t;
  t.write("c/memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 3\n");
  auto cg = Cgroup::open_v2(t.path("c"));
  int fired = 0;
  auto w = OomWatcher::watch(*reactor, *cg, [&] { ++fired; });
  ASSERT_TRUE(w) << w.error().message();
  EXPECT_EQ((*w)->oom_kills(), 3u);  // earlier kills are the baseline, not news
  EXPECT_EQ(reactor->watched_fds(), 1u);

  // A memory event that is not a kill: the file changes, the watcher stays quiet.
  t.write("c/memory.events", "low 0\nhigh 0\nmax 5\noom 1\noom_kill 3\n");
  run_for(50ms);
  EXPECT_EQ(fired, 0);

  t.write("c/memory.events", "low 0\nhigh 0\nmax 6\noom 2\noom_kill 4\n");
  run_for(50ms);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ((*w)->oom_kills(), 4u);
  EXPECT_FALSE((*w)->check_now());  // already reported

  w->reset();
  EXPECT_EQ(reactor->watched_fds(), 0u);  // the destructor left the reactor
}

TEST_F(OomWatcherTest, V2StopsWhenTheCgroupGoes) {
  FakeTree t;
  t.write("c/memory.events", "oom_kill 0\n");
  auto cg = Cgroup::open_v2(t.path("c"));
  int fired = 0;
  auto w = OomWatcher::watch(*reactor, *cg, [&] { ++fired; });
  ASSERT_TRUE(w);
  std::filesystem::remove_all(t.path("c"));
  run_for(50ms);
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(reactor->watched_fds(), 0u);
  EXPECT_FALSE((*w)->check_now());
}

TEST_F(OomWatcherTest, V1CheckNowReadsOomControl) {
  FakeTree t;
  t.write("m/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
  t.write("m/cgroup.event_control", "");
  auto cg = Cgroup::open_v1({.memory = t.path("m")});
  int fired = 0;
  auto w = OomWatcher::watch(*reactor, *cg, [&] { ++fired; });
  ASSERT_TRUE(w) << w.error().message();
  // The registration line is "<eventfd> <oom_control fd>".
  EXPECT_NE(t.read("m/cgroup.event_control").find(' '), std::string::npos);
  EXPECT_FALSE((*w)->check_now());
  t.write("m/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
  EXPECT_TRUE((*w)->check_now());
  EXPECT_FALSE((*w)->check_now());
  EXPECT_EQ(fired, 1);
  EXPECT_EQ((*cg).oom_kill_count().value(), 1u);
}

TEST_F(OomWatcherTest, NeedsAReadableCounter) {
  FakeTree t;
  auto w = OomWatcher::watch(*reactor, *Cgroup::open_v2(t.path("nothing")), [] {});
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().code(), Code::kNotFound);
  EXPECT_EQ(reactor->watched_fds(), 0u);
}

}  // namespace
}  // namespace shim
