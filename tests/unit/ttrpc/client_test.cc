// The client against our server: round trips, deadlines, a peer that goes away.
#include "ttrpc/client.h"

#include <gtest/gtest.h>

#include "testing.h"

namespace shim::ttrpc {
namespace {

using namespace shim::testing;

Task<Result<std::string>> echo(std::string payload, CallContext ctx) {
  co_return payload + (ctx.metadata.empty() ? "" : ctx.metadata[0].second);
}
Task<Result<std::string>> fail(std::string, CallContext) {
  co_return Error(Code::kFailedPrecondition, "not running");
}
Task<Result<std::string>> park(Oneshot<int> gate, std::string payload) {
  co_await gate;
  co_return payload;
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reactor_ = std::move(*Reactor::create());
    server_ = std::make_unique<Server>(*reactor_);
    server_->register_method("svc", "Echo", echo);
    server_->register_method("svc", "Fail", fail);
    server_->register_method("svc", "Park", [gate = gate_](std::string p, CallContext) {
      return park(gate, std::move(p));
    });
    path_ = dir_.file("c.sock");
    ASSERT_TRUE(server_->serve(listen_unix(path_)).ok());
  }
  std::unique_ptr<Client> connect(const std::string& address) {
    auto r = start(Client::connect(*reactor_, address));
    EXPECT_TRUE(run_until(*reactor_, [&] { return r->has_value(); }));
    EXPECT_TRUE((*r)->ok()) << (*r)->error().message();
    return std::move(**r).value();
  }
  template <class T>
  T wait(std::shared_ptr<std::optional<T>> slot) {
    EXPECT_TRUE(run_until(*reactor_, [&] { return slot->has_value(); }));
    return std::move(**slot);
  }

  std::unique_ptr<Reactor> reactor_;
  TempDir dir_;
  std::string path_;
  Oneshot<int> gate_;
  std::unique_ptr<Server> server_;
};

TEST_F(ClientTest, RoundTripWithUnixPrefixAndMetadata) {
  auto c = connect("unix://" + path_);
  EXPECT_TRUE(c->connected());
  auto r =
      wait(start(c->call("svc", "Echo", "hi", 1000ms, {{"containerd-namespace-ttrpc", "ns"}})));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, "hins");
}

TEST_F(ClientTest, ServerErrorIsReturned) {
  auto c = connect(path_);
  auto r = wait(start(c->call("svc", "Fail", "", 1000ms)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(r.error().message(), "not running");
  r = wait(start(c->call("svc", "Missing", "", 1000ms)));
  EXPECT_EQ(r.error().code(), Code::kUnimplemented);
}

TEST_F(ClientTest, ConcurrentCallsCompleteOutOfOrder) {
  auto c = connect(path_);
  auto parked = start(c->call("svc", "Park", "p", 5000ms));
  auto quick = start(c->call("svc", "Echo", "q", 5000ms));
  auto q = wait(quick);
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(parked->has_value());
  gate_.set(1);
  auto p = wait(parked);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p, "p");
}

TEST_F(ClientTest, TimeoutThenLateReplyIsDropped) {
  auto c = connect(path_);
  auto r = wait(start(c->call("svc", "Park", "late", 30ms)));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kDeadlineExceeded);
  EXPECT_EQ(c->pending_calls(), 0u);
  gate_.set(1);
  run_for(*reactor_, 5ms);
  auto next = wait(start(c->call("svc", "Echo", "next", 1000ms)));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, "next");
}

TEST_F(ClientTest, PeerCloseFailsPendingWithUnavailable) {
  auto c = connect(path_);
  auto a = start(c->call("svc", "Park", "", 5000ms));
  auto b = start(c->call("svc", "Park", "", 5000ms));
  run_until(*reactor_, [&] { return server_->calls_in_flight() == 2; });
  server_->close_connections();
  auto ra = wait(a);
  auto rb = wait(b);
  EXPECT_EQ(ra.error().code(), Code::kUnavailable);
  EXPECT_EQ(rb.error().code(), Code::kUnavailable);
  EXPECT_FALSE(c->connected());
  auto after = wait(start(c->call("svc", "Echo", "", 1000ms)));
  EXPECT_EQ(after.error().code(), Code::kUnavailable);
  gate_.set(1);
  run_for(*reactor_, 5ms);
}

TEST_F(ClientTest, ClientDestroyedWithCallPending) {
  size_t before = count_fds();
  auto c = connect(path_);
  auto a = start(c->call("svc", "Park", "", 5000ms));
  run_until(*reactor_, [&] { return server_->calls_in_flight() == 1; });
  c.reset();
  auto ra = wait(a);
  EXPECT_EQ(ra.error().code(), Code::kUnavailable);
  gate_.set(1);
  run_until(*reactor_, [&] { return server_->connection_count() == 0; });
  EXPECT_EQ(count_fds(), before);
}

TEST_F(ClientTest, NobodyListening) {
  auto r = start(Client::connect(*reactor_, dir_.file("absent.sock")));
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->error().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace shim::ttrpc
