#include "runsc/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "base/file.h"

namespace shim {
namespace {

using Flags = std::vector<std::pair<std::string, std::string>>;

TEST(ShimConfig, Defaults) {
  auto config = parse_shim_config("", "t.toml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->binary_name, "runsc");
  EXPECT_EQ(config->root, "/run/containerd/runsc");
  EXPECT_TRUE(config->runsc_flags.empty());
}

TEST(ShimConfig, StringsBoolsAndIntegersBecomeFlagText) {
  auto config = parse_shim_config(R"(
log_level = "debug"           # the Go shim's key: not ours, ignored
binary_name = "/opt/runsc"
root = "/run/r"
[runsc_config]
network = "none"
debug = true
overlay = false
num-network-channels = 4
)",
                                  "t.toml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->binary_name, "/opt/runsc");
  EXPECT_EQ(config->root, "/run/r");
  EXPECT_EQ(config->runsc_flags, (Flags{{"debug", "true"},
                                        {"network", "none"},
                                        {"num-network-channels", "4"},
                                        {"overlay", "false"}}));
}

TEST(ShimConfig, MalformedNamesFileAndReason) {
  auto config = parse_shim_config("[runsc_config\nnetwork = none\n", "/etc/x.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code(), Code::kInvalidArgument);
  EXPECT_NE(config.error().message().find("/etc/x.toml"), std::string::npos)
      << config.error().message();
  EXPECT_NE(config.error().message().find("line 1"), std::string::npos) << config.error().message();
}

TEST(ShimConfig, WrongTypesAreInvalid) {
  EXPECT_EQ(parse_shim_config("binary_name = 3", "t").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(parse_shim_config("runsc_config = 3", "t").error().code(), Code::kInvalidArgument);
  auto nested = parse_shim_config("[runsc_config]\nx = [1, 2]\n", "t");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.error().message().find("runsc_config.x"), std::string::npos);
}

class ShimConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/shim-config-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_;
};

TEST_F(ShimConfigFile, LoadsNamedFile) {
  std::string path = dir_ + "/runsc.toml";
  ASSERT_TRUE(write_file_atomic(path, "[runsc_config]\nnetwork = \"none\"\n").ok());
  auto config = load_shim_config(path);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->runsc_flags, (Flags{{"network", "none"}}));
}

TEST_F(ShimConfigFile, MissingNamedFileIsAnError) {
  auto config = load_shim_config(dir_ + "/absent.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message().find("absent.toml"), std::string::npos);
}

TEST_F(ShimConfigFile, MalformedFileIsInvalidArgument) {
  std::string path = dir_ + "/bad.toml";
  ASSERT_TRUE(write_file_atomic(path, "root = \n").ok());
  auto config = load_shim_config(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().code(), Code::kInvalidArgument);
  EXPECT_NE(config.error().message().find(path), std::string::npos) << config.error().message();
}

TEST(ShimConfigDefaultPath, MissingDefaultFileGivesDefaults) {
  if (path_exists(std::string(kDefaultShimConfigPath))) GTEST_SKIP() << "default file exists";
  auto config = load_shim_config("");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->binary_name, "runsc");
}

}  // namespace
}  // namespace shim
