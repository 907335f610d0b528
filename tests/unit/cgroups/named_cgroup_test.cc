// Cgroups named by path: joining one (ShimCgroup), removing what runsc left behind.
#include "cgroups/named_cgroup.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "fake_tree.h"

namespace shim {
namespace {

using testing::FakeTree;

// A hybrid host: a directory per hierarchy, "cpu" a link to a joint mount.
void make_v1(FakeTree& tree, const std::string& group) {
  for (const char* h : {"memory", "cpu,cpuacct", "pids", "systemd"}) {
    tree.write(std::string(h) + group + "/cgroup.procs", "");
  }
  std::filesystem::create_directory_symlink(tree.path("cpu,cpuacct"), tree.path("cpu"));
}

TEST(NamedCgroup, JoinWritesThePidIntoEveryHierarchyThatHasIt) {
  FakeTree tree;
  make_v1(tree, "/containerd/shim");
  std::filesystem::remove_all(tree.path("pids/containerd"));  // not in every hierarchy
  ASSERT_TRUE(move_into_cgroup(4242, "/containerd/shim", tree.root()).ok());
  for (const char* h : {"memory", "cpu,cpuacct", "systemd"}) {
    EXPECT_EQ(tree.read(std::string(h) + "/containerd/shim/cgroup.procs"), "4242") << h;
  }
}

TEST(NamedCgroup, UnifiedHasOneTree) {
  FakeTree tree;
  tree.write("cgroup.controllers", "cpu memory pids\n");
  tree.write("containerd/shim/cgroup.procs", "");
  ASSERT_TRUE(move_into_cgroup(7, "/containerd/shim", tree.root()).ok());
  EXPECT_EQ(tree.read("containerd/shim/cgroup.procs"), "7");
}

TEST(NamedCgroup, JoinRefusesWhatItCannotFindOrShouldNotTouch) {
  FakeTree tree;
  make_v1(tree, "/present");
  EXPECT_EQ(move_into_cgroup(1, "/absent", tree.root()).error().code(), Code::kNotFound);
  EXPECT_EQ(move_into_cgroup(1, "relative", tree.root()).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(move_into_cgroup(1, "/present/../..", tree.root()).error().code(),
            Code::kInvalidArgument);
}

TEST(NamedCgroup, RemoveTakesOnlyEmptyDirectories) {
  FakeTree tree;
  for (const char* h : {"memory", "pids"}) {
    std::filesystem::create_directories(tree.path(std::string(h) + "/ns/c1"));
  }
  tree.write("cpu/ns/c1/busy", "");  // rmdir fails on it (a live cgroup: EBUSY)
  remove_empty_cgroup("/ns/c1", tree.root());
  EXPECT_FALSE(tree.exists("memory/ns/c1"));
  EXPECT_FALSE(tree.exists("pids/ns/c1"));
  EXPECT_TRUE(tree.exists("cpu/ns/c1"));
  EXPECT_TRUE(tree.exists("memory/ns"));                // the namespace level is shared
  remove_empty_cgroup("kubepods:pod:c1", tree.root());  // systemd style: left alone
}

}  // namespace
}  // namespace shim
