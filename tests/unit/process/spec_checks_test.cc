// The checks made on config.json before runsc sees it: unknown capabilities granted wholesale,
// and a binary that is missing from the rootfs.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "process/capabilities.h"
#include "process/executable_check.h"

namespace shim {
namespace {

using nlohmann::json;

// CAP_CHOWN .. the capability numbered count - 1, as containerd lists them.
json all_capabilities(int count) {
  json names = json::array();
  for (int n = 0; n < count; ++n) names.push_back(std::string(capability_name(n)));
  return names;
}

uint64_t mask(int count) { return (uint64_t{1} << count) - 1; }

json process_with(json bounding, json effective) {
  return {{"capabilities",
           {{"bounding", bounding}, {"effective", effective}, {"permitted", effective}}}};
}

TEST(Capabilities, NumbersFollowLinux) {
  EXPECT_EQ(capability_name(13), "CAP_NET_RAW");
  EXPECT_EQ(capability_name(41), "");
  EXPECT_EQ(capability_number("CAP_CHOWN"), 0);
  EXPECT_EQ(capability_number("CAP_AUDIT_READ"), 37);
  EXPECT_EQ(capability_number("CAP_CHECKPOINT_RESTORE"), 40);
  EXPECT_EQ(capability_number("CAP_NOPE"), -1);
}

// containerd's privileged spec on kernel 6.x against a runsc that knows 38.
TEST(Capabilities, GrantedWholesaleTheUnknownOnesAreDropped) {
  json spec = process_with(all_capabilities(41), all_capabilities(41));
  ASSERT_TRUE(names_capabilities_from(spec, 38));
  auto dropped = drop_unknown_granted_capabilities(spec, 38, mask(41));
  EXPECT_EQ(dropped,
            (std::vector<std::string>{"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"}));
  EXPECT_EQ(spec["capabilities"]["bounding"], all_capabilities(38));
  EXPECT_EQ(spec["capabilities"]["effective"], all_capabilities(38));
  EXPECT_EQ(spec["capabilities"]["permitted"], all_capabilities(38));
  EXPECT_FALSE(names_capabilities_from(spec, 38));
}

// What containerd has itself, not what the kernel has: here containerd lacks CAP_SYS_RESOURCE.
TEST(Capabilities, WholesaleMeansWhatContainerdHolds) {
  json all = all_capabilities(41);
  all.erase(24);  // CAP_SYS_RESOURCE
  json spec = process_with(all, all);
  auto dropped = drop_unknown_granted_capabilities(spec, 38, mask(41) & ~(uint64_t{1} << 24));
  EXPECT_EQ(dropped.size(), 3u);
  EXPECT_EQ(spec["capabilities"]["bounding"].size(), 37u);
}

TEST(Capabilities, AskedForOnItsOwnItIsKept) {
  json spec = process_with(json{"CAP_KILL", "CAP_BPF"}, json{"CAP_BPF"});
  json before = spec;
  EXPECT_TRUE(names_capabilities_from(spec, 38));
  EXPECT_TRUE(drop_unknown_granted_capabilities(spec, 38, mask(41)).empty());
  EXPECT_EQ(spec, before);  // runsc refuses it, naming it
  // Nor does a shim that holds nothing take any set for a wholesale grant.
  json empty = process_with(json::array(), json::array());
  EXPECT_TRUE(drop_unknown_granted_capabilities(empty, 38, 0).empty());
}

TEST(Capabilities, ARunscThatKnowsThemAllKeepsEverything) {
  json spec = process_with(all_capabilities(41), all_capabilities(41));
  EXPECT_FALSE(names_capabilities_from(spec, 41));
  EXPECT_TRUE(drop_unknown_granted_capabilities(spec, 41, mask(41)).empty());
  EXPECT_EQ(spec["capabilities"]["bounding"].size(), 41u);
}

TEST(Capabilities, NoCapabilitiesNoChange) {
  json spec = {{"args", {"sh"}}};
  EXPECT_FALSE(names_capabilities_from(spec, 38));
  EXPECT_TRUE(drop_unknown_granted_capabilities(spec, 38, mask(41)).empty());
}

TEST(Capabilities, OwnEffectiveSetIsRead) {
  // Root in this sandbox holds most capabilities; unprivileged, none. Either way a value that
  // came from the file: the bits above CAP_LAST_CAP are never set.
  EXPECT_EQ(own_effective_capabilities() >> 41, 0u);
  if (::geteuid() == 0) EXPECT_NE(own_effective_capabilities() & 1, 0u);  // CAP_CHOWN
}

class ExecutableCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/exec-check-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    bundle_ = tmpl;
    rootfs_ = bundle_ + "/rootfs";
    for (const char* d :
         {"/rootfs", "/rootfs/bin", "/rootfs/usr", "/rootfs/usr/bin", "/rootfs/opt"}) {
      ASSERT_EQ(::mkdir((bundle_ + d).c_str(), 0755), 0);
    }
    write_file("/bin/busybox", 0755);
    write_file("/bin/notes.txt", 0644);
    ASSERT_EQ(::symlink("busybox", (rootfs_ + "/bin/sh").c_str()), 0);
    // An absolute link: inside the container it means the rootfs's /bin/busybox, not the
    // host's (where /bin/busybox may or may not exist).
    ASSERT_EQ(::symlink("/bin/busybox", (rootfs_ + "/usr/bin/env").c_str()), 0);
    ASSERT_EQ(::symlink("/nowhere/tool", (rootfs_ + "/usr/bin/dangling").c_str()), 0);
    // Escapes with .. stop at the rootfs's root.
    ASSERT_EQ(::symlink("../../../../bin/busybox", (rootfs_ + "/usr/bin/up").c_str()), 0);
    ASSERT_EQ(::symlink("/etc/hostname", (rootfs_ + "/usr/bin/hostfile").c_str()), 0);
  }
  void TearDown() override { ASSERT_EQ(std::system(("rm -rf " + bundle_).c_str()), 0); }

  void write_file(const std::string& path, mode_t mode) {
    std::ofstream(rootfs_ + path) << "x";
    ASSERT_EQ(::chmod((rootfs_ + path).c_str(), mode), 0);
  }
  json spec(const std::string& binary, json env = {"PATH=/usr/bin:/bin"}) {
    return {{"root", {{"path", "rootfs"}}},
            {"process", {{"args", {binary, "-c", "true"}}, {"env", env}, {"cwd", "/usr"}}},
            {"mounts", {{{"destination", "/proc"}}, {{"destination", "/opt/tools"}}}}};
  }
  Result<void> check(const json& s) { return check_executable(s, bundle_); }

  std::string bundle_, rootfs_;
};

TEST_F(ExecutableCheck, FoundOnThePathOrThroughSymlinks) {
  EXPECT_TRUE(check(spec("sh")).ok());
  EXPECT_TRUE(check(spec("busybox")).ok());
  EXPECT_TRUE(check(spec("env")).ok());
  EXPECT_TRUE(check(spec("up")).ok());
  EXPECT_TRUE(check(spec("/bin/sh")).ok());
  EXPECT_FALSE(check(spec("bin/../bin/sh")).ok());  // from cwd /usr: /usr/bin/sh, missing
  EXPECT_TRUE(check(spec("../bin/sh")).ok());       // /usr/../bin/sh
}

TEST_F(ExecutableCheck, MissingFailsNamingTheBinary) {
  auto r = check(spec("nothing"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("\"nothing\": executable file not found in $PATH"),
            std::string::npos)
      << r.error().message();
  EXPECT_FALSE(check(spec("/bin/nothing")).ok());
  EXPECT_FALSE(check(spec("dangling")).ok());
  // A host file behind an absolute link is not the container's.
  EXPECT_FALSE(check(spec("hostfile")).ok());
  auto plain = check(spec("/bin/notes.txt"));
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.error().message().find("permission denied"), std::string::npos);
}

TEST_F(ExecutableCheck, WhatItCannotKnowIsLeftToRunsc) {
  EXPECT_TRUE(check(spec("/opt/tools/x")).ok());                 // under a spec mount
  EXPECT_TRUE(check(spec("x", {"PATH=/opt/tools:/bin"})).ok());  // likewise
  EXPECT_TRUE(check(spec("nothing", json::array())).ok());       // no PATH at all
  json no_args = spec("sh");
  no_args["process"]["args"] = json::array();
  EXPECT_TRUE(check(no_args).ok());
  ASSERT_EQ(std::system(("rm -rf " + rootfs_ + " && mkdir " + rootfs_).c_str()), 0);
  EXPECT_TRUE(check(spec("nothing")).ok());  // an empty rootfs: not mounted yet
}

}  // namespace
}  // namespace shim
