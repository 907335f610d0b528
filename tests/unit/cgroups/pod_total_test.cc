// What a pod's one cgroup gets from its containers' requests.
#include <gtest/gtest.h>

#include "cgroups/resources.h"

namespace shim::cgroups {
namespace {

Resources memory(std::optional<int64_t> limit) {
  Resources r;
  r.memory.limit = limit;
  return r;
}

TEST(PodTotal, LimitsAddUpUnlessOneHasNone) {
  EXPECT_EQ(pod_total({memory(64 << 20), memory(128 << 20)}).memory.limit, int64_t{192} << 20);
  EXPECT_EQ(pod_total({memory(64 << 20), memory(std::nullopt)}).memory.limit, kUnlimited);
  EXPECT_EQ(pod_total({memory(64 << 20), memory(kUnlimited)}).memory.limit, kUnlimited);
  // Nobody asked: the cgroup keeps what it has.
  EXPECT_FALSE(pod_total({memory(std::nullopt), memory(std::nullopt)}).memory.limit);
  EXPECT_FALSE(pod_total({}).memory.limit);
}

TEST(PodTotal, CpuQuotasAddAsFractionsOfACpu) {
  Resources half, quarter;
  half.cpu.quota = 50000;
  half.cpu.period = 100000;
  quarter.cpu.quota = 50000;
  quarter.cpu.period = 200000;
  Resources total = pod_total({half, quarter});
  EXPECT_EQ(total.cpu.period, 200000u);
  EXPECT_EQ(total.cpu.quota, 150000);  // 0.75 CPU over 200 ms
  Resources free;
  EXPECT_EQ(pod_total({half, free}).cpu.quota, kUnlimited);
}

TEST(PodTotal, SharesAddAndCpusetsJoin) {
  Resources a, b;
  a.cpu.shares = 512;
  b.cpu.shares = 1024;
  a.cpu.cpus = "0-1";
  b.cpu.cpus = "1,3";
  Resources total = pod_total({a, b});
  EXPECT_EQ(total.cpu.shares, 1536u);
  EXPECT_EQ(total.cpu.cpus, "0-1,3");
  b.cpu.cpus = "";  // one container pinned nowhere: the pod is not pinned either
  EXPECT_EQ(pod_total({a, b}).cpu.cpus, "");
}

TEST(MergeInto, WhatTheUpdateNamesReplaces) {
  Resources kept = memory(64 << 20);
  kept.pids_limit = 100;
  Resources update;
  update.pids_limit = 200;
  merge_into(kept, update);
  EXPECT_EQ(kept.memory.limit, int64_t{64} << 20);
  EXPECT_EQ(kept.pids_limit, 200);
}

}  // namespace
}  // namespace shim::cgroups
