// Finding a process's cgroup from /proc/<pid>/cgroup text, v1 (hybrid) and v2 (unified).
#include <gtest/gtest.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "cgroups/cgroup_v1.h"
#include "fake_tree.h"

namespace shim {
namespace {

using testing::FakeTree;

// The shape of /proc/self/cgroup on this host: cpu and cpuacct as separate hierarchies.
constexpr std::string_view kHybrid =
    "9:name=systemd:/\n"
    "8:pids:/default/c1\n"
    "7:blkio:/default/c1\n"
    "6:freezer:/default/c1\n"
    "5:devices:/default/c1\n"
    "4:memory:/default/c1\n"
    "3:cpuset:/default/c1\n"
    "2:cpuacct:/default/c1\n"
    "1:cpu:/default/c1\n"
    "0::/\n";

TEST(CgroupDiscovery, HybridHostUsesV1PerController) {
  FakeTree tree;  // no cgroup.controllers at the root: not unified-only
  auto cg = Cgroup::from_proc_cgroup(kHybrid, tree.root());
  ASSERT_TRUE(cg) << cg.error().message();
  ASSERT_EQ((*cg)->version(), Cgroup::Version::kV1);
  auto& paths = static_cast<cgroups::CgroupV1&>(**cg).paths();
  EXPECT_EQ(paths.memory, tree.root() + "/memory/default/c1");
  EXPECT_EQ(paths.cpu, tree.root() + "/cpu/default/c1");
  EXPECT_EQ(paths.cpuacct, tree.root() + "/cpuacct/default/c1");
  EXPECT_EQ(paths.cpuset, tree.root() + "/cpuset/default/c1");
  EXPECT_EQ(paths.pids, tree.root() + "/pids/default/c1");
  EXPECT_EQ(paths.blkio, tree.root() + "/blkio/default/c1");
  EXPECT_EQ(paths.hugetlb, "");
  EXPECT_EQ((*cg)->memory_dir(), paths.memory);
}

TEST(CgroupDiscovery, CombinedControllersShareOnePath) {
  FakeTree tree;
  auto cg = Cgroup::from_proc_cgroup("4:cpu,cpuacct:/k8s/pod\n3:memory:/k8s/pod\n", tree.root());
  ASSERT_TRUE(cg);
  auto& paths = static_cast<cgroups::CgroupV1&>(**cg).paths();
  EXPECT_EQ(paths.cpu, tree.root() + "/cpu/k8s/pod");  // the cpu -> cpu,cpuacct symlink
  EXPECT_EQ(paths.cpuacct, tree.root() + "/cpuacct/k8s/pod");
}

TEST(CgroupDiscovery, RootCgroupIsTheMountPoint) {
  FakeTree tree;
  auto cg = Cgroup::from_proc_cgroup("4:memory:/\n", tree.root());
  ASSERT_TRUE(cg);
  EXPECT_EQ((*cg)->memory_dir(), tree.root() + "/memory");
}

TEST(CgroupDiscovery, UnifiedHostUsesTheZeroLine) {
  FakeTree tree;
  tree.write("cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
  auto cg = Cgroup::from_proc_cgroup("0::/default/c1\n", tree.root());
  ASSERT_TRUE(cg) << cg.error().message();
  EXPECT_EQ((*cg)->version(), Cgroup::Version::kV2);
  EXPECT_EQ((*cg)->memory_dir(), tree.root() + "/default/c1");
}

TEST(CgroupDiscovery, Refusals) {
  FakeTree tree;
  auto no_memory = Cgroup::from_proc_cgroup("1:cpu:/a\n0::/\n", tree.root());
  ASSERT_FALSE(no_memory);
  EXPECT_EQ(no_memory.error().code(), Code::kNotFound);

  auto escape = Cgroup::from_proc_cgroup("4:memory:/a/../../etc\n", tree.root());
  ASSERT_FALSE(escape);
  EXPECT_EQ(escape.error().code(), Code::kInvalidArgument);

  auto junk = Cgroup::from_proc_cgroup("nonsense\n", tree.root());
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().code(), Code::kInvalidArgument);

  tree.write("cgroup.controllers", "memory\n");
  auto no_zero = Cgroup::from_proc_cgroup("4:memory:/a\n", tree.root());
  ASSERT_FALSE(no_zero);
  EXPECT_EQ(no_zero.error().code(), Code::kNotFound);
}

TEST(CgroupDiscovery, ForPidReadsAnInjectedProc) {
  FakeTree proc, sys;
  proc.write("4242/cgroup", kHybrid);
  auto cg = Cgroup::for_pid(4242, sys.root(), proc.root());
  ASSERT_TRUE(cg) << cg.error().message();
  EXPECT_EQ((*cg)->memory_dir(), sys.root() + "/memory/default/c1");

  auto missing = Cgroup::for_pid(4243, sys.root(), proc.root());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_NE(missing.error().message().find("cgroup of pid 4243"), std::string::npos);
}

TEST(CgroupDiscovery, ForPidOfThisProcessOnThisHost) {
  auto cg = Cgroup::for_pid(::getpid());
  if (!cg && cg.error().code() == Code::kNotFound) GTEST_SKIP() << cg.error().message();
  ASSERT_TRUE(cg) << cg.error().message();
  std::string type_url;
  auto metrics = (*cg)->metrics(type_url);
  ASSERT_TRUE(metrics) << metrics.error().message();
  EXPECT_FALSE(metrics->empty());
}

}  // namespace
}  // namespace shim
