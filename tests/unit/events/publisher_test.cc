// The publisher against a fake containerd (our ttrpc server with an Events/Forward handler).
#include "events/publisher.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "ttrpc/server.h"
#include "ttrpc/testing.h"

namespace shim::events {
namespace {

using namespace shim::testing;
namespace evpb = pb::containerd::services::events::ttrpc::v1;

struct Received {
  evpb::Envelope envelope;
  std::string ns_metadata;
};

struct FakeContainerd {
  std::vector<Received> got;
  int reject_topic_count = 0;  // answer this many calls with an error
};

Task<Result<std::string>> forward(FakeContainerd* fake, std::string payload,
                                  ttrpc::CallContext ctx) {
  evpb::ForwardRequest req;
  if (!req.decode(payload) || !req.envelope) co_return Error(Code::kInvalidArgument, "bad");
  if (fake->reject_topic_count > 0) {
    --fake->reject_topic_count;
    co_return Error(Code::kInvalidArgument, "rejected");
  }
  Received r{*req.envelope, {}};
  for (auto& [k, v] : ctx.metadata) {
    if (k == "containerd-namespace-ttrpc") r.ns_metadata = v;
  }
  fake->got.push_back(std::move(r));
  co_return std::string();
}

class PublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reactor_ = std::move(*Reactor::create());
    path_ = dir_.file("ttrpc.sock");
    options_.initial_backoff = 5ms;
    options_.max_backoff = 40ms;
    options_.call_timeout = 1000ms;
    // Longer than any test: a delivery in time came from the socket's appearance.
    options_.redial.safety_initial = 60s;
    options_.redial.safety_max = 60s;
  }
  void start_containerd() { serve(listen_unix(path_)); }
  void serve(UniqueFd listener) {
    server_ = std::make_unique<ttrpc::Server>(*reactor_);
    FakeContainerd* fake = &fake_;
    server_->register_method(std::string(evpb::kEventsServiceName), "Forward",
                             [fake](std::string p, ttrpc::CallContext ctx) {
                               return forward(fake, std::move(p), std::move(ctx));
                             });
    ASSERT_TRUE(server_->serve(std::move(listener)).ok());
  }
  // Runs the loop until everything is delivered; how long that took.
  std::chrono::milliseconds time_to_deliver(EventPublisher& pub) {
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(run_until(
        *reactor_, [&] { return pub.pending() == 0; }, 2000ms));
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 t0);
  }
  void publish_n(EventPublisher& pub, int from, int to) {
    for (int i = from; i < to; ++i) {
      pub.publish("/tasks/exit", "default", "containerd.events.TaskExit", str_cat("e", i));
    }
  }
  void expect_in_order(int n) {
    ASSERT_EQ(fake_.got.size(), static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) EXPECT_EQ(fake_.got[i].envelope.event->value, str_cat("e", i));
  }

  std::unique_ptr<Reactor> reactor_;
  TempDir dir_;
  std::string path_;
  EventPublisher::Options options_;
  FakeContainerd fake_;
  std::unique_ptr<ttrpc::Server> server_;
};

TEST_F(PublisherTest, DeliversInOrderWithEnvelope) {
  start_containerd();
  EventPublisher pub(*reactor_, "unix://" + path_, options_);
  publish_n(pub, 0, 100);
  EXPECT_EQ(pub.pending(), 100u);
  // Delivered, and every reply seen (so no Forward is in flight when the test ends).
  ASSERT_TRUE(run_until(*reactor_, [&] { return pub.pending() == 0; }));
  expect_in_order(100);
  const auto& env = fake_.got[0].envelope;
  EXPECT_EQ(env.topic, "/tasks/exit");
  EXPECT_EQ(env.namespace_, "default");
  ASSERT_TRUE(env.timestamp);
  EXPECT_GT(env.timestamp->seconds, 1600000000);
  ASSERT_TRUE(env.event);
  EXPECT_EQ(env.event->type_url, "containerd.events.TaskExit");
  EXPECT_EQ(fake_.got[0].ns_metadata, "default");
}

TEST_F(PublisherTest, DeliversAsSoonAsContainerdAppears) {
  EventPublisher pub(*reactor_, path_, options_);
  publish_n(pub, 0, 5);
  run_for(*reactor_, 100ms);  // failed dials, then a wait for the socket
  EXPECT_EQ(pub.pending(), 5u);
  start_containerd();
  publish_n(pub, 5, 10);
  EXPECT_LT(time_to_deliver(pub), 100ms);
  expect_in_order(10);
  EXPECT_EQ(pub.dropped(), 0u);
}

TEST_F(PublisherTest, SurvivesContainerdRestart) {
  start_containerd();
  EventPublisher pub(*reactor_, path_, options_);
  publish_n(pub, 0, 3);
  ASSERT_TRUE(run_until(*reactor_, [&] { return fake_.got.size() == 3; }));
  server_.reset();  // containerd goes away; its socket file stays, refusing dials
  publish_n(pub, 3, 6);
  run_for(*reactor_, 200ms);
  EXPECT_EQ(pub.pending(), 3u);
  start_containerd();  // unlinks the stale socket and binds a new one, as containerd does
  EXPECT_LT(time_to_deliver(pub), 100ms);
  expect_in_order(6);
}

TEST_F(PublisherTest, WaitsForMissingFoldersToo) {
  // containerd's state folder itself is gone (a tmpfs /run after a reboot of its host).
  std::string dir = dir_.file("run");
  path_ = dir + "/containerd/ttrpc.sock";
  EventPublisher pub(*reactor_, path_, options_);
  publish_n(pub, 0, 2);
  run_for(*reactor_, 100ms);
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  run_for(*reactor_, 20ms);
  ASSERT_EQ(::mkdir((dir + "/containerd").c_str(), 0755), 0);
  run_for(*reactor_, 20ms);
  EXPECT_EQ(pub.pending(), 2u);
  start_containerd();
  EXPECT_LT(time_to_deliver(pub), 100ms);
  expect_in_order(2);
}

TEST_F(PublisherTest, SocketThatListensLateIsRedialedQuickly) {
  // containerd binds (the socket file appears: inotify fires) before it listens: the first
  // dial is refused, and the burst of redials after it reaches the listener.
  EventPublisher pub(*reactor_, path_, options_);
  publish_n(pub, 0, 1);
  run_for(*reactor_, 100ms);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto addr = unix_addr(path_);
  ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  run_for(*reactor_, 15ms);
  EXPECT_EQ(pub.pending(), 1u);
  ASSERT_EQ(::listen(fd.get(), 64), 0);
  serve(std::move(fd));
  EXPECT_LT(time_to_deliver(pub), 100ms);
  expect_in_order(1);
}

TEST_F(PublisherTest, RejectedEventIsRetriedThenDropped) {
  start_containerd();
  options_.max_rejections = 3;
  fake_.reject_topic_count = 3;
  EventPublisher pub(*reactor_, path_, options_);
  publish_n(pub, 0, 2);
  ASSERT_TRUE(run_until(*reactor_, [&] { return pub.pending() == 0; }));
  ASSERT_EQ(fake_.got.size(), 1u);  // e0 was dropped after 3 rejections; e1 went through
  EXPECT_EQ(fake_.got[0].envelope.event->value, "e1");
  EXPECT_EQ(pub.dropped(), 1u);
}

TEST_F(PublisherTest, FullQueueDropsNewestAndLogsOnce) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  log::set_output(fds[1]);
  options_.max_queue = 3;
  EventPublisher pub(*reactor_, path_, options_);
  publish_n(pub, 0, 10);
  log::set_output(2);
  EXPECT_EQ(pub.pending(), 3u);
  EXPECT_EQ(pub.dropped(), 7u);
  char buf[4096];
  ssize_t n = ::read(fds[0], buf, sizeof buf);
  std::string logged(buf, n > 0 ? n : 0);
  size_t count = 0;
  for (size_t at = logged.find("event queue full"); at != std::string::npos;
       at = logged.find("event queue full", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 1u) << logged;
  ::close(fds[0]);
  ::close(fds[1]);
  start_containerd();
  ASSERT_TRUE(run_until(*reactor_, [&] { return pub.pending() == 0; }));
  expect_in_order(3);  // the oldest were kept
}

TEST_F(PublisherTest, FlushWaitsForEmptyOrGivesUp) {
  EventPublisher pub(*reactor_, path_, options_);
  publish_n(pub, 0, 2);
  auto start_time = std::chrono::steady_clock::now();
  auto gave_up = start(pub.flush(50ms));
  ASSERT_TRUE(run_until(*reactor_, [&] { return gave_up->has_value(); }));
  EXPECT_GE(std::chrono::steady_clock::now() - start_time, 50ms);
  EXPECT_EQ(pub.pending(), 2u);
  start_containerd();
  auto done = start(pub.flush(5000ms));
  ASSERT_TRUE(run_until(*reactor_, [&] { return done->has_value(); }));
  EXPECT_EQ(pub.pending(), 0u);
  expect_in_order(2);
  auto empty = start(pub.flush(5000ms));
  EXPECT_TRUE(empty->has_value());  // nothing queued: at once
}

TEST_F(PublisherTest, DestroyedWhileRetryingOrSending) {
  size_t before = count_fds();
  {
    EventPublisher pub(*reactor_, path_, options_);
    publish_n(pub, 0, 3);
    run_for(*reactor_, 20ms);
  }
  run_for(*reactor_, 20ms);
  start_containerd();
  {
    EventPublisher pub(*reactor_, path_, options_);
    publish_n(pub, 0, 3);  // the first Forward is in flight when we go
  }
  run_for(*reactor_, 20ms);
  server_.reset();
  EXPECT_EQ(count_fds(), before);  // the socket watch included
}

// The schedule alone: how often an outage that never ends makes the publisher dial.
TEST(RedialScheduleTest, LongOutageDialsRarely) {
  auto reactor = std::move(*Reactor::create());
  TempDir dir;
  RedialSchedule::Options options;
  options.safety_initial = 100ms;
  options.safety_max = 200ms;
  RedialSchedule schedule(*reactor, dir.file("never.sock"), options);
  int dials = 0;
  std::function<void()> wait_next = [&] {
    schedule.next().then([&](const bool& due) {
      if (!due) return;
      ++dials;
      reactor->post(wait_next);  // as the publisher does: dial (fails), ask again
    });
  };
  wait_next();
  run_for(*reactor, 1000ms);
  // At once, the 6 of the burst (88 ms), then 100 ms, 200 ms, 200 ms, ... : 11 in a second.
  EXPECT_GE(dials, 9);
  EXPECT_LE(dials, 12);
  EXPECT_TRUE(schedule.watching());
  EXPECT_EQ(schedule.watched_dir(), dir.path());
  schedule.cancel();
}

TEST(RedialScheduleTest, SocketAppearingEndsTheWaitAtOnce) {
  auto reactor = std::move(*Reactor::create());
  TempDir dir;
  RedialSchedule::Options options;
  options.safety_initial = 60s;
  RedialSchedule schedule(*reactor, dir.file("later.sock"), options);
  EXPECT_TRUE(schedule.next().ready());  // the look right after arming the watch
  EXPECT_EQ(schedule.watched_dir(), dir.path());
  for (size_t i = 0; i < options.burst.size(); ++i) {
    auto due = schedule.next();
    ASSERT_TRUE(run_until(
        *reactor, [&] { return due.ready(); }, 100ms))
        << i;
  }
  auto due = schedule.next();  // burst over: only the safety net (60 s) or the socket
  run_for(*reactor, 50ms);
  EXPECT_FALSE(due.ready());
  UniqueFd listener = listen_unix(dir.file("later.sock"));
  ASSERT_TRUE(listener);
  EXPECT_TRUE(run_until(
      *reactor, [&] { return due.ready(); }, 50ms));
  EXPECT_TRUE(due.peek());
  auto again = schedule.next();  // refused once more: a burst follows
  EXPECT_TRUE(run_until(
      *reactor, [&] { return again.ready(); }, 20ms));
  schedule.connected();
  EXPECT_FALSE(schedule.watching());
}

}  // namespace
}  // namespace shim::events
