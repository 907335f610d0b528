// The server against a raw peer: concurrency, protocol errors, limits, teardown.
#include "ttrpc/server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "testing.h"

namespace shim::ttrpc {
namespace {

using namespace shim::testing;

Task<Result<std::string>> echo(std::string payload, CallContext ctx) {
  std::string md;
  for (auto& [k, v] : ctx.metadata) md += k + "=" + v + ";";
  co_return str_cat(payload, "|", ctx.service, "/", ctx.method, "|", md, "|", ctx.peer_uid);
}

Task<Result<std::string>> fail(std::string, CallContext) {
  co_return Error(Code::kNotFound, "container c1: not found");
}

Task<Result<std::string>> park(Oneshot<int> gate, std::string payload) {
  int v = co_await gate;
  co_return str_cat(payload, v);
}

Task<Result<std::string>> big(size_t n) { co_return std::string(n, 'b'); }

Task<Result<pb::ttrpc::KeyValue>> typed(pb::ttrpc::KeyValue kv, CallContext) {
  kv.value += "!";
  co_return kv;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reactor_ = std::move(*Reactor::create());
    baseline_fds_ = count_fds();
    make_server({});
  }
  void make_server(Server::Limits limits) {
    server_ = std::make_unique<Server>(*reactor_, limits);
    server_->register_method("svc", "Echo", echo);
    server_->register_method("svc", "Fail", fail);
    server_->register_method("svc", "Park", [gate = gate_](std::string p, CallContext) {
      return park(gate, std::move(p));
    });
    server_->register_typed<pb::ttrpc::KeyValue, pb::ttrpc::KeyValue>("svc", "Typed", typed);
    path_ = dir_.file("s.sock");
    ASSERT_TRUE(server_->serve(listen_unix(path_)).ok());
  }
  std::unique_ptr<RawPeer> connect() {
    auto p = std::make_unique<RawPeer>(path_);
    EXPECT_TRUE(p->connected());
    run_until(
        *reactor_, [&] { return server_->connection_count() > 0; }, 1000ms);
    return p;
  }
  void expect_no_leak() {
    server_.reset();
    EXPECT_EQ(count_fds(), baseline_fds_);
  }

  std::unique_ptr<Reactor> reactor_;
  TempDir dir_;
  std::string path_;
  Oneshot<int> gate_;
  std::unique_ptr<Server> server_;
  size_t baseline_fds_ = 0;
};

TEST_F(ServerTest, EchoWithContext) {
  auto p = connect();
  ASSERT_TRUE(p->send_request(*reactor_, 1, "svc", "Echo", "hi"));
  auto g = p->await(*reactor_, 1);
  ASSERT_TRUE(g && g->decoded);
  EXPECT_EQ(g->type, 2);
  ASSERT_TRUE(g->response.status);  // Go ttrpc always sends a status; code 0 on success
  EXPECT_EQ(g->response.status->code, 0);
  EXPECT_EQ(g->response.payload,
            str_cat("hi|svc/Echo|containerd-namespace-ttrpc=default;|", ::geteuid()));
}

TEST_F(ServerTest, ErrorBecomesStatus) {
  auto p = connect();
  p->send_request(*reactor_, 1, "svc", "Fail");
  auto g = p->await(*reactor_, 1);
  ASSERT_TRUE(g && g->response.status);
  EXPECT_EQ(g->response.status->code, 5);
  EXPECT_EQ(g->response.status->message, "container c1: not found");
}

TEST_F(ServerTest, ParkedCallDoesNotBlockOthers) {
  auto p = connect();
  p->send_request(*reactor_, 1, "svc", "Park", "w");
  p->send_request(*reactor_, 3, "svc", "Echo", "e");
  ASSERT_TRUE(p->await(*reactor_, 3));
  EXPECT_EQ(p->find(1), nullptr);
  gate_.set(7);
  auto g = p->await(*reactor_, 1);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->response.payload, "w7");
  ASSERT_EQ(p->got().size(), 2u);
  EXPECT_EQ(p->got()[0].stream_id, 3u);  // answered out of order
  EXPECT_EQ(p->got()[1].stream_id, 1u);
}

TEST_F(ServerTest, EvenAndZeroStreamIdsAreInvalid) {
  auto p = connect();
  p->send_request(*reactor_, 2, "svc", "Echo");
  p->send_request(*reactor_, 0, "svc", "Echo");
  auto g = p->await(*reactor_, 2);
  ASSERT_TRUE(g && g->response.status);
  EXPECT_EQ(g->response.status->code, 3);
  g = p->await(*reactor_, 0);
  ASSERT_TRUE(g && g->response.status);
  EXPECT_EQ(g->response.status->code, 3);
}

TEST_F(ServerTest, UnknownServiceOrMethodIsUnimplemented) {
  auto p = connect();
  p->send_request(*reactor_, 1, "containerd.task.v2.Task", "Nope");
  p->send_request(*reactor_, 3, "svc", "Nope");
  auto g = p->await(*reactor_, 1);
  ASSERT_TRUE(g && g->response.status);
  EXPECT_EQ(g->response.status->code, 12);
  EXPECT_EQ(g->response.status->message, "containerd.task.v2.Task/Nope: not implemented");
  g = p->await(*reactor_, 3);
  ASSERT_TRUE(g && g->response.status);
  EXPECT_EQ(g->response.status->message, "svc/Nope: not implemented");
}

TEST_F(ServerTest, UndecodableRequestIsInvalidArgument) {
  auto p = connect();
  p->send_frame(*reactor_, 1, 1, "\xff\xff\xff");
  auto g = p->await(*reactor_, 1);
  ASSERT_TRUE(g && g->response.status);
  EXPECT_EQ(g->response.status->code, 3);
  // The connection survives.
  p->send_request(*reactor_, 3, "svc", "Echo", "x");
  ASSERT_TRUE(p->await(*reactor_, 3));
}

TEST_F(ServerTest, TypedDecodesAndEncodes) {
  auto p = connect();
  p->send_request(*reactor_, 1, "svc", "Typed", pb::ttrpc::KeyValue{"k", "v"}.encode());
  p->send_request(*reactor_, 3, "svc", "Typed", "\x0a\x05z");  // truncated string field
  auto g = p->await(*reactor_, 1);
  ASSERT_TRUE(g);
  pb::ttrpc::KeyValue kv;
  ASSERT_TRUE(kv.decode(g->response.payload));
  EXPECT_EQ(kv.value, "v!");
  g = p->await(*reactor_, 3);
  ASSERT_TRUE(g && g->response.status);
  EXPECT_EQ(g->response.status->code, 3);
  EXPECT_EQ(g->response.status->message, "decode Typed request");
}

TEST_F(ServerTest, OversizedFrameAnswersResourceExhaustedAndConnectionLives) {
  auto p = connect();
  std::string body(kMaxDataSize + 1, 'x');
  ASSERT_TRUE(p->send_frame(*reactor_, 5, 1, body));
  auto g = p->await(*reactor_, 5);
  ASSERT_TRUE(g && g->response.status);
  EXPECT_EQ(g->response.status->code, 8);
  p->send_request(*reactor_, 7, "svc", "Echo", "after");
  g = p->await(*reactor_, 7);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->response.status->code, 0);
}

TEST_F(ServerTest, NonRequestFramesAreIgnored) {
  auto p = connect();
  p->send_frame(*reactor_, 1, 3, "data");
  p->send_frame(*reactor_, 3, 2, "response?");
  p->send_frame(*reactor_, 5, 77, "unknown");
  p->send_request(*reactor_, 7, "svc", "Echo");
  ASSERT_TRUE(p->await(*reactor_, 7));
  EXPECT_EQ(p->got().size(), 1u);
}

TEST_F(ServerTest, PeerClosesMidFrameNoLeak) {
  auto p = connect();
  std::string half("\x00\x00\x00\x20\x00\x00\x00\x01\x01\x00partial", 17);
  p->send_raw(*reactor_, half);
  p->close();
  ASSERT_TRUE(run_until(*reactor_, [&] { return server_->connection_count() == 0; }));
  expect_no_leak();
}

TEST_F(ServerTest, PeerClosesMidCallReplyIsDropped) {
  bool last_closed = false;
  server_->on_last_connection_closed = [&] { last_closed = true; };
  auto p = connect();
  p->send_request(*reactor_, 1, "svc", "Park");
  run_until(*reactor_, [&] { return server_->calls_in_flight() == 1; });
  p->close();
  ASSERT_TRUE(run_until(*reactor_, [&] { return last_closed; }));
  EXPECT_EQ(server_->connection_count(), 0u);
  gate_.set(1);  // the handler finishes; its reply has nowhere to go
  run_for(*reactor_, 5ms);
  // A new peer is served as usual.
  auto q = connect();
  q->send_request(*reactor_, 1, "svc", "Echo");
  ASSERT_TRUE(q->await(*reactor_, 1));
  q.reset();
  expect_no_leak();
}

TEST_F(ServerTest, ServerDestroyedWhileCallParked) {
  auto p = connect();
  p->send_request(*reactor_, 1, "svc", "Park");
  run_until(*reactor_, [&] { return server_->calls_in_flight() == 1; });
  server_.reset();
  gate_.set(1);  // resumes a handler whose server is gone: must not touch it
  EXPECT_TRUE(p->eof());
  p.reset();
  EXPECT_EQ(count_fds(), baseline_fds_);
}

TEST_F(ServerTest, WrongUidIsRejected) {
  server_->set_allowed_uid(::geteuid() + 1);
  RawPeer p(path_);
  ASSERT_TRUE(p.connected());
  ASSERT_TRUE(run_until(*reactor_, [&] { return p.eof(); }));
  EXPECT_EQ(server_->connection_count(), 0u);
}

TEST_F(ServerTest, InFlightLimit) {
  Server::Limits limits;
  limits.max_in_flight_per_connection = 2;
  make_server(limits);
  auto p = connect();
  p->send_request(*reactor_, 1, "svc", "Park");
  p->send_request(*reactor_, 3, "svc", "Park");
  p->send_request(*reactor_, 5, "svc", "Park");
  auto g = p->await(*reactor_, 5);
  ASSERT_TRUE(g && g->response.status);
  EXPECT_EQ(g->response.status->code, 8);
  gate_.set(0);
  ASSERT_TRUE(p->await(*reactor_, 1));
  ASSERT_TRUE(p->await(*reactor_, 3));
}

TEST_F(ServerTest, ConnectionLimit) {
  Server::Limits limits;
  limits.max_connections = 1;
  make_server(limits);
  auto p = connect();
  RawPeer second(path_);
  ASSERT_TRUE(run_until(*reactor_, [&] { return second.eof(); }));
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(ServerTest, PeerThatNeverReadsIsDropped) {
  Server::Limits limits;
  limits.max_output_per_connection = 256 * 1024;
  make_server(limits);
  server_->register_method("svc", "Big", [](std::string, CallContext) { return big(100000); });
  auto p = connect();
  // Never read: the kernel buffer fills, then ours, then the server gives up.
  for (uint32_t sid = 1; sid < 200 && server_->connection_count() > 0; sid += 2) {
    p->send_request(*reactor_, sid, "svc", "Big");
    run_for(*reactor_, 1ms);
  }
  ASSERT_TRUE(run_until(*reactor_, [&] { return server_->connection_count() == 0; }));
  p.reset();
  expect_no_leak();
}

TEST_F(ServerTest, StopAcceptingClosesListener) {
  size_t before = count_fds();
  server_->stop_accepting();
  EXPECT_EQ(count_fds(), before - 1);
  RawPeer p(path_);
  EXPECT_FALSE(p.connected());
}

}  // namespace
}  // namespace shim::ttrpc
