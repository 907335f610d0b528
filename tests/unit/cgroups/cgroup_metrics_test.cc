// Stats from fake v1 and v2 trees, decoded back from the wire as containerd would.
#include <gtest/gtest.h>
#include <unistd.h>

#include "cgroups/cgroup.h"
#include "fake_tree.h"
#include "github.com/containerd/cgroups/stats/v1/metrics.pb.h"
#include "github.com/containerd/cgroups/v2/stats/metrics.pb.h"

namespace shim {
namespace {

using testing::FakeTree;

CgroupV1Paths v1_paths(const FakeTree& t) {
  return {.memory = t.path("memory/ns/c1"),
          .cpu = t.path("cpu/ns/c1"),
          .cpuacct = t.path("cpuacct/ns/c1"),
          .cpuset = t.path("cpuset/ns/c1"),
          .pids = t.path("pids/ns/c1"),
          .blkio = t.path("blkio/ns/c1"),
          .hugetlb = t.path("hugetlb/ns/c1")};
}

void write_v1_tree(const FakeTree& t) {
  t.write("memory/ns/c1/memory.usage_in_bytes", "1048576\n");
  t.write("memory/ns/c1/memory.max_usage_in_bytes", "2097152\n");
  t.write("memory/ns/c1/memory.limit_in_bytes", "33554432\n");
  t.write("memory/ns/c1/memory.failcnt", "7\n");
  t.write("memory/ns/c1/memory.memsw.usage_in_bytes", "1048577\n");
  t.write("memory/ns/c1/memory.memsw.max_usage_in_bytes", "2097153\n");
  t.write("memory/ns/c1/memory.memsw.limit_in_bytes", "9223372036854771712\n");
  t.write("memory/ns/c1/memory.memsw.failcnt", "0\n");
  t.write("memory/ns/c1/memory.stat",
          "cache 4096\nrss 8192\nrss_huge 0\nmapped_file 12\npgpgin 100\npgfault 300\n"
          "hierarchical_memory_limit 33554432\nhierarchical_memsw_limit 9223372036854771712\n"
          "total_cache 4097\ntotal_rss 8193\ntotal_pgmajfault 3\n");
  t.write("memory/ns/c1/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  t.write("cpuacct/ns/c1/cpuacct.usage", "123456789\n");
  t.write("cpuacct/ns/c1/cpuacct.stat", "user 10\nsystem 3\n");
  t.write("cpuacct/ns/c1/cpuacct.usage_percpu", "100000000 23456789 \n");
  t.write("cpu/ns/c1/cpu.stat",
          "nr_periods 50\nnr_throttled 5\nthrottled_time 999\nnr_bursts 0\nburst_time 0\n");
  t.write("pids/ns/c1/pids.current", "3\n");
  t.write("pids/ns/c1/pids.max", "max\n");
  t.write("hugetlb/ns/c1/hugetlb.2MB.usage_in_bytes", "4194304\n");
  t.write("hugetlb/ns/c1/hugetlb.2MB.max_usage_in_bytes", "6291456\n");
  t.write("hugetlb/ns/c1/hugetlb.2MB.failcnt", "1\n");
  t.write("hugetlb/ns/c1/hugetlb.2MB.rsvd.usage_in_bytes", "0\n");  // not a page size
  t.write("blkio/ns/c1/blkio.throttle.io_service_bytes_recursive",
          "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\nTotal 12288\n");
}

TEST(CgroupMetrics, V1FromAFakeTree) {
  FakeTree t;
  write_v1_tree(t);
  auto cg = Cgroup::open_v1(v1_paths(t));
  std::string type_url;
  auto bytes = cg->metrics(type_url);
  ASSERT_TRUE(bytes) << bytes.error().message();
  EXPECT_EQ(type_url, "io.containerd.cgroups.v1.Metrics");

  pb::io::containerd::cgroups::v1::Metrics m;
  ASSERT_TRUE(m.decode(*bytes));
  ASSERT_TRUE(m.memory && m.memory->usage);
  EXPECT_EQ(m.memory->usage->usage, 1048576u);
  EXPECT_EQ(m.memory->usage->max, 2097152u);
  EXPECT_EQ(m.memory->usage->limit, 33554432u);
  EXPECT_EQ(m.memory->usage->failcnt, 7u);
  ASSERT_TRUE(m.memory->swap);
  EXPECT_EQ(m.memory->swap->usage, 1048577u);
  EXPECT_EQ(m.memory->swap->limit, 9223372036854771712u);
  EXPECT_FALSE(m.memory->kernel);  // no kmem files in this tree
  EXPECT_EQ(m.memory->cache, 4096u);
  EXPECT_EQ(m.memory->rss, 8192u);
  EXPECT_EQ(m.memory->mapped_file, 12u);
  EXPECT_EQ(m.memory->pg_pg_in, 100u);
  EXPECT_EQ(m.memory->pg_fault, 300u);
  EXPECT_EQ(m.memory->hierarchical_memory_limit, 33554432u);
  EXPECT_EQ(m.memory->hierarchical_swap_limit, 9223372036854771712u);
  EXPECT_EQ(m.memory->total_cache, 4097u);
  EXPECT_EQ(m.memory->total_pg_maj_fault, 3u);
  ASSERT_TRUE(m.memory_oom_control);
  EXPECT_EQ(m.memory_oom_control->oom_kill, 2u);

  ASSERT_TRUE(m.cpu && m.cpu->usage && m.cpu->throttling);
  const uint64_t ns_per_tick = 1'000'000'000ull / static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
  EXPECT_EQ(m.cpu->usage->total, 123456789u);
  EXPECT_EQ(m.cpu->usage->user, 10 * ns_per_tick);
  EXPECT_EQ(m.cpu->usage->kernel, 3 * ns_per_tick);
  EXPECT_EQ(m.cpu->usage->per_cpu, (std::vector<uint64_t>{100000000, 23456789}));
  EXPECT_EQ(m.cpu->throttling->periods, 50u);
  EXPECT_EQ(m.cpu->throttling->throttled_periods, 5u);
  EXPECT_EQ(m.cpu->throttling->throttled_time, 999u);

  ASSERT_TRUE(m.pids);
  EXPECT_EQ(m.pids->current, 3u);
  EXPECT_EQ(m.pids->limit, 0u);  // "max"

  ASSERT_EQ(m.hugetlb.size(), 1u);
  EXPECT_EQ(m.hugetlb[0].pagesize, "2MB");
  EXPECT_EQ(m.hugetlb[0].usage, 4194304u);
  EXPECT_EQ(m.hugetlb[0].max, 6291456u);
  EXPECT_EQ(m.hugetlb[0].failcnt, 1u);

  ASSERT_TRUE(m.blkio);
  ASSERT_EQ(m.blkio->io_service_bytes_recursive.size(), 3u);
  EXPECT_EQ(m.blkio->io_service_bytes_recursive[1].op, "Write");
  EXPECT_EQ(m.blkio->io_service_bytes_recursive[1].major, 8u);
  EXPECT_EQ(m.blkio->io_service_bytes_recursive[1].value, 8192u);
}

TEST(CgroupMetrics, V1PidsLimitAndMissingOptionalControllers) {
  FakeTree t;
  t.write("memory/ns/c1/memory.usage_in_bytes", "5\n");
  t.write("pids/ns/c1/pids.current", "1\n");
  t.write("pids/ns/c1/pids.max", "64\n");
  CgroupV1Paths paths{.memory = t.path("memory/ns/c1"), .pids = t.path("pids/ns/c1")};
  std::string type_url;
  auto bytes = Cgroup::open_v1(paths)->metrics(type_url);
  ASSERT_TRUE(bytes) << bytes.error().message();
  pb::io::containerd::cgroups::v1::Metrics m;
  ASSERT_TRUE(m.decode(*bytes));
  ASSERT_TRUE(m.memory && m.memory->usage);
  EXPECT_EQ(m.memory->usage->usage, 5u);
  EXPECT_EQ(m.pids->limit, 64u);
  EXPECT_FALSE(m.cpu);
  EXPECT_TRUE(m.hugetlb.empty());
}

TEST(CgroupMetrics, V1UnreadableMemoryIsAnError) {
  FakeTree t;
  write_v1_tree(t);
  std::filesystem::remove(t.path("memory/ns/c1/memory.usage_in_bytes"));
  std::string type_url;
  auto bytes = Cgroup::open_v1(v1_paths(t))->metrics(type_url);
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().code(), Code::kNotFound);
  EXPECT_NE(bytes.error().message().find("memory.usage_in_bytes"), std::string::npos);
}

void write_v2_tree(const FakeTree& t) {
  t.write("c1/memory.current", "2097152\n");
  t.write("c1/memory.max", "max\n");
  t.write("c1/memory.swap.current", "0\n");
  t.write("c1/memory.swap.max", "1048576\n");
  t.write("c1/memory.stat",
          "anon 1000\nfile 2000\nkernel_stack 16384\nslab 30\nsock 0\nshmem 4\n"
          "workingset_refault_anon 5\nworkingset_refault_file 6\nworkingset_activate_anon 1\n"
          "workingset_activate_file 2\npgfault 77\npgmajfault 1\nthp_fault_alloc 9\n");
  t.write("c1/memory.events", "low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\noom_group_kill 0\n");
  t.write("c1/cpu.stat",
          "usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\nnr_periods 10\nnr_throttled 2\n"
          "throttled_usec 400\n");
  t.write("c1/pids.current", "4\n");
  t.write("c1/pids.max", "100\n");
  t.write("c1/hugetlb.2MB.current", "0\n");
  t.write("c1/hugetlb.2MB.max", "max\n");
  t.write("c1/hugetlb.1GB.current", "1073741824\n");
  t.write("c1/hugetlb.1GB.max", "2147483648\n");
  t.write("c1/hugetlb.1GB.rsvd.current", "0\n");
  t.write("c1/io.stat",
          "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n"
          "253:1 rbytes=10 wbytes=20 rios=30 wios=40\n");
}

TEST(CgroupMetrics, V2FromAFakeTree) {
  FakeTree t;
  write_v2_tree(t);
  std::string type_url;
  auto bytes = Cgroup::open_v2(t.path("c1"))->metrics(type_url);
  ASSERT_TRUE(bytes) << bytes.error().message();
  EXPECT_EQ(type_url, "io.containerd.cgroups.v2.Metrics");

  pb::io::containerd::cgroups::v2::Metrics m;
  ASSERT_TRUE(m.decode(*bytes));
  ASSERT_TRUE(m.memory);
  EXPECT_EQ(m.memory->usage, 2097152u);
  EXPECT_EQ(m.memory->usage_limit, UINT64_MAX);  // "max", as containerd reports it
  EXPECT_EQ(m.memory->swap_limit, 1048576u);
  EXPECT_EQ(m.memory->anon, 1000u);
  EXPECT_EQ(m.memory->file, 2000u);
  EXPECT_EQ(m.memory->kernel_stack, 16384u);
  EXPECT_EQ(m.memory->workingset_refault, 11u);
  EXPECT_EQ(m.memory->workingset_activate, 3u);
  EXPECT_EQ(m.memory->pgfault, 77u);
  EXPECT_EQ(m.memory->thp_fault_alloc, 9u);
  ASSERT_TRUE(m.memory_events);
  EXPECT_EQ(m.memory_events->max, 4u);
  EXPECT_EQ(m.memory_events->oom, 2u);
  EXPECT_EQ(m.memory_events->oom_kill, 1u);
  ASSERT_TRUE(m.cpu);
  EXPECT_EQ(m.cpu->usage_usec, 5000u);
  EXPECT_EQ(m.cpu->user_usec, 3000u);
  EXPECT_EQ(m.cpu->system_usec, 2000u);
  EXPECT_EQ(m.cpu->nr_throttled, 2u);
  EXPECT_EQ(m.cpu->throttled_usec, 400u);
  ASSERT_TRUE(m.pids);
  EXPECT_EQ(m.pids->current, 4u);
  EXPECT_EQ(m.pids->limit, 100u);
  ASSERT_EQ(m.hugetlb.size(), 2u);
  EXPECT_EQ(m.hugetlb[0].pagesize, "1GB");
  EXPECT_EQ(m.hugetlb[0].current, 1073741824u);
  EXPECT_EQ(m.hugetlb[0].max, 2147483648u);
  EXPECT_EQ(m.hugetlb[1].pagesize, "2MB");
  EXPECT_EQ(m.hugetlb[1].max, UINT64_MAX);
  ASSERT_TRUE(m.io);
  ASSERT_EQ(m.io->usage.size(), 2u);
  EXPECT_EQ(m.io->usage[1].major, 253u);
  EXPECT_EQ(m.io->usage[1].wios, 40u);
}

TEST(CgroupMetrics, V2PidsMaxReadsAsZeroAndMemoryIsRequired) {
  FakeTree t;
  write_v2_tree(t);
  t.write("c1/pids.max", "max\n");
  std::string type_url;
  auto cg = Cgroup::open_v2(t.path("c1"));
  auto bytes = cg->metrics(type_url);
  ASSERT_TRUE(bytes);
  pb::io::containerd::cgroups::v2::Metrics m;
  ASSERT_TRUE(m.decode(*bytes));
  EXPECT_EQ(m.pids->limit, 0u);

  std::filesystem::remove(t.path("c1/memory.current"));
  auto missing = cg->metrics(type_url);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("memory.current"), std::string::npos);
}

}  // namespace
}  // namespace shim
