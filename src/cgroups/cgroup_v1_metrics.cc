// io.containerd.cgroups.v1.Metrics from a v1 hierarchy, field by field as containerd's
// cgroups package fills them (so `ctr task metrics` and CRI stats read what they expect).
#include <unistd.h>

#include "base/file.h"
#include "base/strings.h"
#include "cgroups/cgroup_files.h"
#include "cgroups/cgroup_v1.h"
#include "github.com/containerd/cgroups/stats/v1/metrics.pb.h"

namespace shim::cgroups {
namespace {

namespace v1 = pb::io::containerd::cgroups::v1;

std::string at(const std::string& dir, std::string_view name) { return str_cat(dir, "/", name); }

// memory.stat key → MemoryStat field; hierarchical_memsw_limit is containerd's
// hierarchical_swap_limit.
struct StatField {
  std::string_view key;
  uint64_t v1::MemoryStat::*field;
};
constexpr StatField kMemoryStat[] = {
    {"cache", &v1::MemoryStat::cache},
    {"rss", &v1::MemoryStat::rss},
    {"rss_huge", &v1::MemoryStat::rss_huge},
    {"mapped_file", &v1::MemoryStat::mapped_file},
    {"dirty", &v1::MemoryStat::dirty},
    {"writeback", &v1::MemoryStat::writeback},
    {"pgpgin", &v1::MemoryStat::pg_pg_in},
    {"pgpgout", &v1::MemoryStat::pg_pg_out},
    {"pgfault", &v1::MemoryStat::pg_fault},
    {"pgmajfault", &v1::MemoryStat::pg_maj_fault},
    {"inactive_anon", &v1::MemoryStat::inactive_anon},
    {"active_anon", &v1::MemoryStat::active_anon},
    {"inactive_file", &v1::MemoryStat::inactive_file},
    {"active_file", &v1::MemoryStat::active_file},
    {"unevictable", &v1::MemoryStat::unevictable},
    {"hierarchical_memory_limit", &v1::MemoryStat::hierarchical_memory_limit},
    {"hierarchical_memsw_limit", &v1::MemoryStat::hierarchical_swap_limit},
    {"total_cache", &v1::MemoryStat::total_cache},
    {"total_rss", &v1::MemoryStat::total_rss},
    {"total_rss_huge", &v1::MemoryStat::total_rss_huge},
    {"total_mapped_file", &v1::MemoryStat::total_mapped_file},
    {"total_dirty", &v1::MemoryStat::total_dirty},
    {"total_writeback", &v1::MemoryStat::total_writeback},
    {"total_pgpgin", &v1::MemoryStat::total_pg_pg_in},
    {"total_pgpgout", &v1::MemoryStat::total_pg_pg_out},
    {"total_pgfault", &v1::MemoryStat::total_pg_fault},
    {"total_pgmajfault", &v1::MemoryStat::total_pg_maj_fault},
    {"total_inactive_anon", &v1::MemoryStat::total_inactive_anon},
    {"total_active_anon", &v1::MemoryStat::total_active_anon},
    {"total_inactive_file", &v1::MemoryStat::total_inactive_file},
    {"total_active_file", &v1::MemoryStat::total_active_file},
    {"total_unevictable", &v1::MemoryStat::total_unevictable},
};

// One memory.<prefix>{usage_in_bytes,max_usage_in_bytes,limit_in_bytes,failcnt} group; absent
// when the kernel lacks it (memsw without swap accounting).
std::optional<v1::MemoryEntry> memory_entry(const std::string& dir, std::string_view prefix) {
  auto usage = read_u64(at(dir, str_cat("memory.", prefix, "usage_in_bytes")));
  if (!usage) return std::nullopt;
  v1::MemoryEntry e;
  e.usage = *usage;
  e.max = read_u64_or_zero(at(dir, str_cat("memory.", prefix, "max_usage_in_bytes")));
  e.limit = read_u64_or_zero(at(dir, str_cat("memory.", prefix, "limit_in_bytes")));
  e.failcnt = read_u64_or_zero(at(dir, str_cat("memory.", prefix, "failcnt")));
  return e;
}

Result<void> fill_memory(const std::string& dir, v1::Metrics& m) {
  if (dir.empty()) return Error(Code::kNotFound, "no memory cgroup");
  // Usage is the field every client reads: fail loudly rather than report an empty memory.
  auto usage = read_u64(at(dir, "memory.usage_in_bytes"));
  if (!usage) return std::move(usage).error().wrap("memory stats");
  auto& mem = m.memory.emplace();
  mem.usage = memory_entry(dir, "");
  if (!mem.usage) mem.usage.emplace().usage = *usage;
  mem.swap = memory_entry(dir, "memsw.");
  mem.kernel = memory_entry(dir, "kmem.");
  mem.kernel_tcp = memory_entry(dir, "kmem.tcp.");
  if (auto stat = read_keyed(at(dir, "memory.stat"))) {
    for (const auto& f : kMemoryStat) mem.*f.field = lookup(*stat, f.key);
  }
  if (auto oom = read_keyed(at(dir, "memory.oom_control"))) {
    auto& o = m.memory_oom_control.emplace();
    o.oom_kill_disable = lookup(*oom, "oom_kill_disable");
    o.under_oom = lookup(*oom, "under_oom");
    o.oom_kill = lookup(*oom, "oom_kill");
  }
  return ok();
}

void fill_cpu(const CgroupV1Paths& paths, v1::Metrics& m) {
  if (!paths.cpuacct.empty()) {
    auto total = read_u64(at(paths.cpuacct, "cpuacct.usage"));
    if (total) {
      auto& usage = m.cpu.emplace().usage.emplace();
      usage.total = *total;
      if (auto stat = read_keyed(at(paths.cpuacct, "cpuacct.stat"))) {
        // cpuacct.stat counts USER_HZ ticks; containerd reports nanoseconds.
        const uint64_t ns_per_tick = 1'000'000'000ull / static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
        usage.user = lookup(*stat, "user") * ns_per_tick;
        usage.kernel = lookup(*stat, "system") * ns_per_tick;
      }
      if (auto percpu = read_file(at(paths.cpuacct, "cpuacct.usage_percpu"))) {
        usage.per_cpu = parse_u64_list(*percpu);
      }
    }
  }
  if (!paths.cpu.empty()) {
    if (auto stat = read_keyed(at(paths.cpu, "cpu.stat"))) {
      auto& t = (m.cpu ? *m.cpu : m.cpu.emplace()).throttling.emplace();
      t.periods = lookup(*stat, "nr_periods");
      t.throttled_periods = lookup(*stat, "nr_throttled");
      t.throttled_time = lookup(*stat, "throttled_time");
    }
  }
}

void fill_pids(const std::string& dir, v1::Metrics& m) {
  if (dir.empty()) return;
  auto current = read_u64(at(dir, "pids.current"));
  if (!current) return;
  auto& p = m.pids.emplace();
  p.current = *current;
  p.limit = read_u64_or_zero(at(dir, "pids.max"), /*max_value=*/0);  // "max" reads as 0
}

void fill_hugetlb(const std::string& dir, v1::Metrics& m) {
  if (dir.empty()) return;
  for (const std::string& size : list_middles(dir, "hugetlb.", ".usage_in_bytes")) {
    auto& h = m.hugetlb.emplace_back();
    h.pagesize = size;
    h.usage = read_u64_or_zero(at(dir, str_cat("hugetlb.", size, ".usage_in_bytes")));
    h.max = read_u64_or_zero(at(dir, str_cat("hugetlb.", size, ".max_usage_in_bytes")));
    h.failcnt = read_u64_or_zero(at(dir, str_cat("hugetlb.", size, ".failcnt")));
  }
}

// "8:0 Read 4096" lines; the "Total" line and device names (a lookup per device) are left out.
std::vector<v1::BlkIOEntry> blkio_entries(const std::string& dir, std::string_view name) {
  std::vector<v1::BlkIOEntry> out;
  auto text = read_file(at(dir, str_cat("blkio.", name)));
  if (!text || trim(*text).empty() || trim(*text) == "Total 0") {
    // Without CFQ/BFQ accounting the kernel keeps these counts in the throttle files.
    text = read_file(at(dir, str_cat("blkio.throttle.", name)));
  }
  if (!text) return out;
  for (std::string_view line : split(*text, '\n')) {
    auto words = split(trim(line), ' ');
    if (words.size() != 3) continue;
    auto dev = split(words[0], ':');
    v1::BlkIOEntry e;
    if (dev.size() != 2 || !parse_int(dev[0], e.major) || !parse_int(dev[1], e.minor) ||
        !parse_int(words[2], e.value)) {
      continue;
    }
    e.op = std::string(words[1]);
    out.push_back(std::move(e));
  }
  return out;
}

void fill_blkio(const std::string& dir, v1::Metrics& m) {
  if (dir.empty()) return;
  auto& b = m.blkio.emplace();
  b.io_service_bytes_recursive = blkio_entries(dir, "io_service_bytes_recursive");
  b.io_serviced_recursive = blkio_entries(dir, "io_serviced_recursive");
}

}  // namespace

Result<uint64_t> CgroupV1::cpu_usage_ns() const {
  if (paths_.cpuacct.empty()) return Error(Code::kFailedPrecondition, "no cpuacct cgroup");
  return read_u64(at(paths_.cpuacct, "cpuacct.usage"));
}

Result<std::string> CgroupV1::metrics(std::string& type_url) const {
  v1::Metrics m;
  SHIM_TRY(fill_memory(paths_.memory, m));
  fill_cpu(paths_, m);
  fill_pids(paths_.pids, m);
  fill_hugetlb(paths_.hugetlb, m);
  fill_blkio(paths_.blkio, m);
  type_url = "io.containerd.cgroups.v1.Metrics";
  return m.encode();
}

Result<uint64_t> CgroupV1::oom_kill_count() const {
  auto oom = read_keyed(paths_.memory + "/memory.oom_control");
  if (!oom) return std::move(oom).error();
  return lookup(*oom, "oom_kill");
}

}  // namespace shim::cgroups
