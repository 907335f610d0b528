#include "runsc/argv.h"

#include <gtest/gtest.h>

namespace shim {
namespace {

using Args = std::vector<std::string>;

TEST(RunscArgv, GlobalFlagsComeFirstInOrder) {
  ShimConfig config;
  config.binary_name = "/usr/bin/runsc";
  config.runsc_flags = {{"debug", "true"}, {"network", "none"}};
  Args argv = runsc_argv::full(config, "/run/r/default/c1", "/b/log.json", runsc_argv::start("c1"));
  EXPECT_EQ(argv, (Args{"/usr/bin/runsc", "--root=/run/r/default/c1", "--log=/b/log.json",
                        "--log-format=json", "--debug=true", "--network=none", "start", "c1"}));
}

TEST(RunscArgv, SandboxRootIsPerSandbox) {
  ShimConfig config;
  config.root = "/run/containerd/runsc/";
  EXPECT_EQ(*runsc_argv::sandbox_state_root(config, "k8s.io", "c1"),
            "/run/containerd/runsc/k8s.io/c1");
  EXPECT_NE(*runsc_argv::sandbox_state_root(config, "default", "c1"),
            *runsc_argv::sandbox_state_root(config, "default", "c10"));
}

TEST(RunscArgv, SandboxRootRejectsEscapes) {
  ShimConfig config;
  for (const char* bad : {"", ".", "..", "a/b"}) {
    auto root = runsc_argv::sandbox_state_root(config, "default", bad);
    ASSERT_FALSE(root.ok()) << bad;
    EXPECT_EQ(root.error().code(), Code::kInvalidArgument);
    EXPECT_FALSE(runsc_argv::sandbox_state_root(config, bad, "c1").ok()) << bad;
  }
}

TEST(RunscArgv, Create) {
  EXPECT_EQ(runsc_argv::create("c1", "/b", "/b/pid", ""),
            (Args{"create", "--bundle", "/b", "--pid-file", "/b/pid", "c1"}));
  EXPECT_EQ(runsc_argv::create("c1", "/b", "/b/pid", "/tmp/con.sock"),
            (Args{"create", "--bundle", "/b", "--pid-file", "/b/pid", "--console-socket",
                  "/tmp/con.sock", "c1"}));
}

TEST(RunscArgv, Kill) {
  EXPECT_EQ(runsc_argv::kill("c1", 15, false, std::nullopt), (Args{"kill", "c1", "15"}));
  EXPECT_EQ(runsc_argv::kill("c1", 9, true, 7), (Args{"kill", "--all", "--pid", "7", "c1", "9"}));
}

TEST(RunscArgv, Delete) {
  EXPECT_EQ(runsc_argv::remove("c1", false), (Args{"delete", "c1"}));
  EXPECT_EQ(runsc_argv::remove("c1", true), (Args{"delete", "--force", "c1"}));
}

TEST(RunscArgv, Queries) {
  EXPECT_EQ(runsc_argv::state("c1"), (Args{"state", "c1"}));
  EXPECT_EQ(runsc_argv::ps("c1"), (Args{"ps", "--format", "json", "c1"}));
  EXPECT_EQ(runsc_argv::events_stats("c1"), (Args{"events", "--stats", "c1"}));
  EXPECT_EQ(runsc_argv::pause("c1"), (Args{"pause", "c1"}));
  EXPECT_EQ(runsc_argv::resume("c1"), (Args{"resume", "c1"}));
}

TEST(RunscArgv, Exec) {
  EXPECT_EQ(runsc_argv::exec("c1", "/b/p.json", "/b/e.pid", "/b/e.ipid", ""),
            (Args{"exec", "--process", "/b/p.json", "--pid-file", "/b/e.pid", "--internal-pid-file",
                  "/b/e.ipid", "c1"}));
  // A terminal needs --detach: only then does runsc send the pty over the console socket.
  EXPECT_EQ(runsc_argv::exec("c1", "/p", "/e", "/i", "/s"),
            (Args{"exec", "--detach", "--process", "/p", "--pid-file", "/e", "--internal-pid-file",
                  "/i", "--console-socket", "/s", "c1"}));
}

TEST(RunscArgv, CheckpointRestore) {
  EXPECT_EQ(runsc_argv::checkpoint("c1", "/img", false),
            (Args{"checkpoint", "--image-path", "/img", "c1"}));
  EXPECT_EQ(runsc_argv::checkpoint("c1", "/img", true),
            (Args{"checkpoint", "--image-path", "/img", "--leave-running", "c1"}));
  EXPECT_EQ(runsc_argv::restore("c1", "/b", "/img", "/b/pid", ""),
            (Args{"restore", "--detach", "--bundle", "/b", "--image-path", "/img", "--pid-file",
                  "/b/pid", "c1"}));
}

}  // namespace
}  // namespace shim
