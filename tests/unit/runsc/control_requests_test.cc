// The requests the shim makes of a sandbox in place of runsc processes: their exact JSON, as
// `runsc exec` and `runsc events` send it (captured with strace from runsc 20221219).
#include "runsc/control_requests.h"

#include <gtest/gtest.h>

#include "runsc/features.h"

namespace shim {
namespace {

using nlohmann::json;

const RunscFeatures kBookworm = parse_runsc_version("runsc version 0.0~20221219.0");
const RunscFeatures kTrixie = parse_runsc_version("runsc version release-20240729.0");

json arg_of(const std::string& request) {
  json doc = json::parse(request);
  EXPECT_EQ(doc["method"], "containerManager.ExecuteAsync");
  return doc["arg"];
}

ExecTarget target(const RunscFeatures& features = kBookworm) {
  ExecTarget t;
  t.container_id = "c1";
  t.default_cwd = "/home";
  t.default_capabilities = json{{"bounding", {"CAP_KILL"}}, {"effective", {"CAP_KILL"}}};
  t.features = features;
  return t;
}

TEST(ExecuteAsyncRequest, CarriesTheProcessSpec) {
  json process = {{"args", {"sh", "-c", "id"}},
                  {"env", {"PATH=/bin", "X=1"}},
                  {"cwd", "/tmp"},
                  {"terminal", false},
                  {"user", {{"uid", 1000}, {"gid", 1000}, {"additionalGids", {5, 6}}}},
                  {"capabilities",
                   {{"bounding", {"CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"}},
                    {"effective", {"CAP_KILL"}},
                    {"permitted", {"CAP_KILL"}},
                    {"inheritable", json::array()},
                    {"ambient", {"CAP_KILL"}}}}};
  auto request = execute_async_request(process, target());
  ASSERT_TRUE(request.ok()) << request.error().message();
  json arg = arg_of(*request);
  EXPECT_EQ(arg["argv"], json({"sh", "-c", "id"}));
  EXPECT_EQ(arg["envv"], json({"PATH=/bin", "X=1"}));
  EXPECT_EQ(arg["filename"], "");
  EXPECT_EQ(arg["wd"], "/tmp");
  EXPECT_EQ(arg["KUID"], 1000);
  EXPECT_EQ(arg["KGID"], 1000);
  EXPECT_EQ(arg["ExtraKGIDs"], json({5, 6}));
  EXPECT_EQ(arg["StdioIsPty"], false);
  EXPECT_EQ(arg["ContainerID"], "c1");
  EXPECT_EQ(arg["GuestFDs"], json({0, 1, 2}));
  // runsc spec's default set, as runsc exec sent it: 536871968.
  EXPECT_EQ(arg["Capabilities"]["BoundingCaps"], 536871968u);
  EXPECT_EQ(arg["Capabilities"]["EffectiveCaps"], 32u);
  EXPECT_EQ(arg["Capabilities"]["PermittedCaps"], 32u);
  EXPECT_EQ(arg["Capabilities"]["InheritableCaps"], 0u);
  EXPECT_EQ(arg["Capabilities"]["AmbientCaps"], 0u);  // the sandbox carries none
}

TEST(ExecuteAsyncRequest, WhatTheSpecLeavesOutComesFromTheContainer) {
  auto request = execute_async_request(json{{"args", {"true"}}, {"terminal", true}}, target());
  ASSERT_TRUE(request.ok());
  json arg = arg_of(*request);
  EXPECT_EQ(arg["wd"], "/home");
  EXPECT_EQ(arg["KUID"], 0);
  EXPECT_EQ(arg["envv"], json::array());
  EXPECT_EQ(arg["StdioIsPty"], true);
  EXPECT_EQ(arg["Capabilities"]["BoundingCaps"], 32u);
  // No capabilities anywhere: null, the sandbox's own default for the user.
  ExecTarget bare = target();
  bare.default_capabilities = nullptr;
  auto none = execute_async_request(json{{"args", {"true"}}}, bare);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(arg_of(*none)["Capabilities"].is_null());
}

TEST(ExecuteAsyncRequest, RawSocketsOnlyWithNetRaw) {
  json process = {{"args", {"ping"}}, {"capabilities", {{"bounding", {"CAP_NET_RAW"}}}}};
  auto stripped = execute_async_request(process, target());
  ASSERT_TRUE(stripped.ok());
  EXPECT_EQ(arg_of(*stripped)["Capabilities"]["BoundingCaps"], 0u);
  ExecTarget raw = target();
  raw.net_raw = true;
  auto kept = execute_async_request(process, raw);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(arg_of(*kept)["Capabilities"]["BoundingCaps"], 1u << 13);
}

TEST(ExecuteAsyncRequest, CapabilitiesThisRunscDoesNotKnowAreRefused) {
  json process = {{"args", {"true"}}, {"capabilities", {{"bounding", {"CAP_BPF"}}}}};
  auto old = execute_async_request(process, target(kBookworm));
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code(), Code::kInvalidArgument);
  EXPECT_NE(old.error().message().find("CAP_BPF"), std::string::npos);
  auto known = execute_async_request(process, target(kTrixie));
  ASSERT_TRUE(known.ok());
  EXPECT_EQ(arg_of(*known)["Capabilities"]["BoundingCaps"], uint64_t{1} << 39);
  json made_up = {{"args", {"true"}}, {"capabilities", {{"bounding", {"CAP_NOPE"}}}}};
  EXPECT_FALSE(execute_async_request(made_up, target(kTrixie)).ok());
}

TEST(ExecuteAsyncRequest, MalformedSpecsAreInvalidArgumentNotACrash) {
  for (const char* text :
       {R"([])", R"({})", R"({"args":[]})", R"({"args":[1]})", R"({"args":"sh"})",
        R"({"args":["sh"],"env":[3]})", R"({"args":["sh"],"user":{"uid":"root"}})",
        R"({"args":["sh"],"capabilities":{"bounding":"CAP_KILL"}})",
        R"({"args":["sh"],"terminal":"yes","cwd":7})"}) {
    auto r = execute_async_request(json::parse(text), target());
    // Either refused, or made with the odd fields read as absent: never an exception.
    if (!r.ok()) {
      EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << text;
    }
  }
}

TEST(ControlRequests, WaitSignalAndEvent) {
  EXPECT_EQ(json::parse(wait_pid_request("c1", 7)),
            json({{"method", "containerManager.WaitPID"}, {"arg", {{"PID", 7}, {"CID", "c1"}}}}));
  EXPECT_EQ(json::parse(signal_request("c1", 7, 28, SignalTarget::kForegroundGroup)),
            json({{"method", "containerManager.Signal"},
                  {"arg", {{"CID", "c1"}, {"Signo", 28}, {"PID", 7}, {"Mode", 2}}}}));
  // 20221219's Event takes no argument (a string is a type error there); 20240729's the id.
  EXPECT_EQ(json::parse(event_request("c1", kBookworm))["arg"], json());
  EXPECT_EQ(json::parse(event_request("c1", kTrixie))["arg"], "c1");
}

TEST(ControlReplies, PidAndWaitStatus) {
  EXPECT_EQ(*parse_exec_pid(json(12)), 12);
  EXPECT_FALSE(parse_exec_pid(json(0)).ok());
  EXPECT_FALSE(parse_exec_pid(json("12")).ok());
  EXPECT_EQ(parse_wait_status(json(768))->code, 3);   // exit 3
  EXPECT_EQ(parse_wait_status(json(15))->code, 143);  // SIGTERM
  EXPECT_FALSE(parse_wait_status(json(-1)).ok());
}

}  // namespace
}  // namespace shim
