// Resource updates on fake v1 and v2 trees: which files get which values, and what is refused.
#include <gtest/gtest.h>

#include "cgroups/cgroup.h"
#include "cgroups/resources.h"
#include "fake_tree.h"

namespace shim {
namespace {

using testing::FakeTree;

class V1Update : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto f : {"memory/c/memory.limit_in_bytes", "memory/c/memory.soft_limit_in_bytes",
                   "cpu/c/cpu.shares", "cpu/c/cpu.cfs_quota_us", "cpu/c/cpu.cfs_period_us",
                   "cpuset/c/cpuset.cpus", "cpuset/c/cpuset.mems", "pids/c/pids.max"}) {
      t.write(f, "untouched");
    }
    t.write("memory/c/memory.memsw.limit_in_bytes", "9223372036854771712\n");
    cg = Cgroup::open_v1({.memory = t.path("memory/c"),
                          .cpu = t.path("cpu/c"),
                          .cpuacct = t.path("cpuacct/c"),
                          .cpuset = t.path("cpuset/c"),
                          .pids = t.path("pids/c")});
  }
  FakeTree t;
  std::unique_ptr<Cgroup> cg;
};

TEST_F(V1Update, WritesEveryField) {
  auto r = cg->update(R"({
    "memory": {"limit": 33554432, "reservation": 16777216, "swap": 67108864},
    "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0-1", "mems": "0"},
    "pids": {"limit": 64},
    "devices": [{"allow": false, "access": "rwm"}]})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(t.read("memory/c/memory.limit_in_bytes"), "33554432");
  EXPECT_EQ(t.read("memory/c/memory.soft_limit_in_bytes"), "16777216");
  EXPECT_EQ(t.read("memory/c/memory.memsw.limit_in_bytes"), "67108864");
  EXPECT_EQ(t.read("cpu/c/cpu.shares"), "512");
  EXPECT_EQ(t.read("cpu/c/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(t.read("cpu/c/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(t.read("cpuset/c/cpuset.cpus"), "0-1");
  EXPECT_EQ(t.read("cpuset/c/cpuset.mems"), "0");
  EXPECT_EQ(t.read("pids/c/pids.max"), "64");
}

TEST_F(V1Update, UnlimitedAndZero) {
  // -1 lifts a limit (and memsw with it, or the kernel would refuse); 0 leaves a field alone.
  ASSERT_TRUE(cg->update(R"({"memory": {"limit": -1, "reservation": 0},
                             "cpu": {"quota": -1, "shares": 0}, "pids": {"limit": -1}})"));
  EXPECT_EQ(t.read("memory/c/memory.limit_in_bytes"), "-1");
  EXPECT_EQ(t.read("memory/c/memory.memsw.limit_in_bytes"), "-1");
  EXPECT_EQ(t.read("memory/c/memory.soft_limit_in_bytes"), "untouched");
  EXPECT_EQ(t.read("cpu/c/cpu.cfs_quota_us"), "-1");
  EXPECT_EQ(t.read("cpu/c/cpu.shares"), "untouched");
  EXPECT_EQ(t.read("pids/c/pids.max"), "max");
}

TEST_F(V1Update, OnlyWhatIsGiven) {
  ASSERT_TRUE(cg->update(R"({"memory": {"limit": 1048576}})"));
  EXPECT_EQ(t.read("memory/c/memory.limit_in_bytes"), "1048576");
  EXPECT_EQ(t.read("memory/c/memory.memsw.limit_in_bytes"), "9223372036854771712\n");
  EXPECT_EQ(t.read("cpu/c/cpu.shares"), "untouched");
  ASSERT_TRUE(cg->update("{}"));
}

TEST_F(V1Update, SwapWithoutSwapAccounting) {
  std::filesystem::remove(t.path("memory/c/memory.memsw.limit_in_bytes"));
  // memory+swap == memory means "no swap": nothing to write, and fine.
  ASSERT_TRUE(cg->update(R"({"memory": {"limit": 1048576, "swap": 1048576}})"));
  auto r = cg->update(R"({"memory": {"limit": 1048576, "swap": 2097152}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kFailedPrecondition);
}

TEST_F(V1Update, KernelRefusalNamesTheFile) {
  // A missing file stands in for the kernel saying no (the real EBUSY is in the root test).
  std::filesystem::remove(t.path("pids/c/pids.max"));
  auto r = cg->update(R"({"pids": {"limit": 10}})");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("pids/c/pids.max"), std::string::npos) << r.error().message();
}

TEST_F(V1Update, MissingControllerIsAPrecondition) {
  auto no_cpuset = Cgroup::open_v1({.memory = t.path("memory/c")});
  auto r = no_cpuset->update(R"({"cpu": {"cpus": "0"}})");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kFailedPrecondition);
}

class V2Update : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto f : {"c/memory.max", "c/memory.low", "c/memory.swap.max", "c/cpu.weight",
                   "c/cpuset.cpus", "c/cpuset.mems", "c/pids.max"}) {
      t.write(f, "untouched");
    }
    t.write("c/cpu.max", "max 100000\n");
    cg = Cgroup::open_v2(t.path("c"));
  }
  FakeTree t;
  std::unique_ptr<Cgroup> cg;
};

TEST_F(V2Update, ConvertsOciValues) {
  auto r = cg->update(R"({
    "memory": {"limit": 33554432, "reservation": 16777216, "swap": 67108864},
    "cpu": {"shares": 1024, "quota": 50000, "period": 200000, "cpus": "1", "mems": "0"},
    "pids": {"limit": 32}})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(t.read("c/memory.max"), "33554432");
  EXPECT_EQ(t.read("c/memory.low"), "16777216");
  EXPECT_EQ(t.read("c/memory.swap.max"), "33554432");  // memory+swap minus memory
  EXPECT_EQ(t.read("c/cpu.weight"), "39");             // 1 + (1022 * 9999) / 262142
  EXPECT_EQ(t.read("c/cpu.max"), "50000 200000");
  EXPECT_EQ(t.read("c/cpuset.cpus"), "1");
  EXPECT_EQ(t.read("c/cpuset.mems"), "0");
  EXPECT_EQ(t.read("c/pids.max"), "32");
}

TEST_F(V2Update, MaxQuotaKeepsThePeriod) {
  t.write("c/cpu.max", "20000 50000\n");
  ASSERT_TRUE(cg->update(R"({"cpu": {"quota": -1}})"));
  EXPECT_EQ(t.read("c/cpu.max"), "max 50000");
  ASSERT_TRUE(cg->update(R"({"cpu": {"period": 100000}})"));
  EXPECT_EQ(t.read("c/cpu.max"), "max 100000");
  ASSERT_TRUE(cg->update(R"({"memory": {"limit": -1, "swap": -1}, "pids": {"limit": -1}})"));
  EXPECT_EQ(t.read("c/memory.max"), "max");
  EXPECT_EQ(t.read("c/memory.swap.max"), "max");
  EXPECT_EQ(t.read("c/pids.max"), "max");
}

TEST_F(V2Update, SwapNeedsALimit) {
  auto alone = cg->update(R"({"memory": {"swap": 1048576}})");
  ASSERT_FALSE(alone);
  EXPECT_EQ(alone.error().code(), Code::kInvalidArgument);
  auto smaller = cg->update(R"({"memory": {"limit": 2048, "swap": 1024}})");
  ASSERT_FALSE(smaller);
  EXPECT_EQ(smaller.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(t.read("c/memory.max"), "untouched");  // checked before anything is written
}

TEST(SharesToWeight, MatchesContainerd) {
  using cgroups::shares_to_weight;
  EXPECT_EQ(shares_to_weight(2), 1u);
  EXPECT_EQ(shares_to_weight(1024), 39u);
  EXPECT_EQ(shares_to_weight(262144), 10000u);
  EXPECT_EQ(shares_to_weight(0), 0u);
}

struct Refusal {
  const char* json;
  const char* message;  // a part of the error text
};

class Refusals : public ::testing::TestWithParam<Refusal> {};

TEST_P(Refusals, AreInvalidArgumentBeforeAnyWrite) {
  FakeTree t;
  t.write("c/memory.max", "untouched");
  std::unique_ptr<Cgroup> both[] = {Cgroup::open_v2(t.path("c")),
                                    Cgroup::open_v1({.memory = t.path("c")})};
  for (auto& cg : both) {
    auto r = cg->update(GetParam().json);
    ASSERT_FALSE(r) << GetParam().json;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << r.error().message();
    EXPECT_NE(r.error().message().find(GetParam().message), std::string::npos)
        << r.error().message();
  }
  EXPECT_EQ(t.read("c/memory.max"), "untouched");
}

INSTANTIATE_TEST_SUITE_P(
    Cgroup, Refusals,
    ::testing::Values(
        Refusal{"{not json", "malformed JSON"}, Refusal{"[1]", "not a JSON object"},
        Refusal{R"({"memory": {"limit": "1G"}})", "memory.limit: not an integer"},
        Refusal{R"({"memory": {"limit": -5}})", "memory.limit: negative"},
        Refusal{R"({"cpu": {"shares": -1}})", "cpu.shares: negative"},
        Refusal{R"({"cpu": {"shares": 1}})", "outside [2, 262144]"},
        Refusal{R"({"pids": {"limit": -2}})", "pids.limit: negative"},
        Refusal{R"({"blockIO": {"weight": 10}})", "updating blockIO is not supported"},
        Refusal{R"({"hugepageLimits": [{"pageSize": "2MB", "limit": 0}]})",
                "updating hugepageLimits is not supported"},
        Refusal{R"({"memory": {"kernel": 1048576}})", "updating memory.kernel is not supported"},
        Refusal{R"({"cpu": {"realtimeRuntime": 1000}})",
                "updating cpu.realtimeRuntime is not supported"},
        Refusal{R"({"unified": {"memory.high": "1G"}})", "updating unified is not supported"},
        Refusal{R"({"memory": {"limit": 2048, "swap": 1024}})", "must be at least"}));

TEST(ParseResources, EmptyAndNullSectionsAreFine) {
  auto r = cgroups::parse_linux_resources(
      R"({"pids": null, "blockIO": {}, "hugepageLimits": [], "cpu": {"cpus": ""},
          "memory": {"swappiness": null, "disableOOMKiller": false}})");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->empty());
}

}  // namespace
}  // namespace shim
