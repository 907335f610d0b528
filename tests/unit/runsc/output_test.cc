#include "runsc/output.h"

#include <gtest/gtest.h>

namespace shim {
namespace {

// Lines written by runsc 20221219 here (`--log-format=json`); it appends objects with no
// newline between them.
constexpr std::string_view kStateNope =
    R"({"msg":"loading container: file does not exist","level":"error","time":"2026-11-22T20:33:37.154325117Z"})";
constexpr std::string_view kStartStopped =
    R"({"msg":"starting container: cannot start container \"c1\" in state stopped","level":"error","time":"2026-11-22T20:33:59.424986911Z"})";
constexpr std::string_view kDeleteRunning =
    R"({"msg":"cannot delete container that is not stopped without --force flag","level":"error","time":"2026-11-22T20:35:22.252225274Z"})";
constexpr std::string_view kCreateTwice =
    R"({"msg":"creating container: cannot lock container metadata file: container already exists","level":"error","time":"2026-11-22T20:34:26.904059614Z"})";

TEST(LastErrorMessage, OneObject) {
  EXPECT_EQ(last_error_message(kStateNope), "loading container: file does not exist");
}

TEST(LastErrorMessage, BackToBackObjectsGiveTheLast) {
  std::string log = std::string(kStateNope) + std::string(kStartStopped);
  EXPECT_EQ(last_error_message(log),
            "starting container: cannot start container \"c1\" in state stopped");
}

TEST(LastErrorMessage, NewlineSeparatedAndNonErrorLevels) {
  std::string log = std::string(kDeleteRunning) + "\n" +
                    R"({"msg":"later info {with braces}","level":"info","time":"x"})" + "\n" +
                    R"({"msg":"debug","level":"debug"})" + "\n";
  EXPECT_EQ(last_error_message(log),
            "cannot delete container that is not stopped without --force flag");
}

TEST(LastErrorMessage, NoErrorGivesEmpty) {
  EXPECT_EQ(last_error_message(""), "");
  EXPECT_EQ(last_error_message(R"({"msg":"ok","level":"info"})"), "");
}

TEST(LastErrorMessage, JunkAndTornObjectsAreSkipped) {
  std::string log = "garbage } {\"level\":\"error\",\"msg\":\"valid\"} not json " +
                    std::string(kCreateTwice) + R"({"msg":"torn","level":"err)";
  EXPECT_EQ(last_error_message(log),
            "creating container: cannot lock container metadata file: container already exists");
  // A torn object never completes, so the earlier one stays the answer.
  EXPECT_EQ(last_error_message("{\"level\":\"error\",\"msg\":\"a\"}{\"level\""), "a");
}

TEST(LastErrorMessage, EscapedQuotesAndBracesInMessage) {
  EXPECT_EQ(last_error_message(R"({"msg":"bad \"}\" {","level":"error"})"), "bad \"}\" {");
}

TEST(ClassifyRunscError, MeasuredMessages) {
  EXPECT_EQ(classify_runsc_error("loading container: file does not exist"), Code::kNotFound);
  EXPECT_EQ(classify_runsc_error("loading sandbox: file does not exist"), Code::kNotFound);
  EXPECT_EQ(classify_runsc_error("cannot start container \"c1\" in state stopped"),
            Code::kFailedPrecondition);
  EXPECT_EQ(classify_runsc_error("pause failed: cannot pause container \"c1\" in state stopped"),
            Code::kFailedPrecondition);
  EXPECT_EQ(
      classify_runsc_error("cannot delete container that is not stopped without --force flag"),
      Code::kFailedPrecondition);
  EXPECT_EQ(classify_runsc_error("cannot lock container metadata file: container already exists"),
            Code::kAlreadyExists);
  EXPECT_EQ(classify_runsc_error(
                "reading spec: error opening spec file \"/x/config.json\": open /x/config.json: "
                "no such file or directory"),
            Code::kUnknown);
  EXPECT_EQ(classify_runsc_error("exit status 1"), Code::kUnknown);
}

TEST(ParseRunscState, RealOutput) {
  auto state = parse_runsc_state(R"({
  "ociVersion": "1.0.2-dev",
  "id": "c1",
  "status": "created",
  "pid": 11166,
  "bundle": "/tmp/rsmoke/bundle"
})");
  ASSERT_TRUE(state.ok()) << state.error().message();
  EXPECT_EQ(state->id, "c1");
  EXPECT_EQ(state->status, "created");
  EXPECT_EQ(state->pid, 11166);
  EXPECT_EQ(state->bundle, "/tmp/rsmoke/bundle");
  auto stopped = parse_runsc_state(R"({"id":"c1","status":"stopped","pid":-1})");
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->pid, -1);
}

TEST(ParseRunscState, GarbageIsAClearError) {
  auto torn = parse_runsc_state(R"({"id": "c1", "pid": 12)");
  ASSERT_FALSE(torn.ok());
  EXPECT_NE(torn.error().message().find("not a JSON object"), std::string::npos);
  EXPECT_FALSE(parse_runsc_state("[]").ok());
  EXPECT_FALSE(parse_runsc_state(R"({"id":"c1","status":"running"})").ok());
  EXPECT_FALSE(parse_runsc_state(R"({"id":"c1","status":"running","pid":"12"})").ok());
}

TEST(ParseRunscPs, BareArrayOfPids) {
  auto pids = parse_runsc_ps("[1,7]\n");
  ASSERT_TRUE(pids.ok()) << pids.error().message();
  EXPECT_EQ(*pids, (std::vector<pid_t>{1, 7}));
  EXPECT_FALSE(parse_runsc_ps("ps: unknown format").ok());
  EXPECT_FALSE(parse_runsc_ps(R"([{"pid":1}])").ok());
}

}  // namespace
}  // namespace shim
