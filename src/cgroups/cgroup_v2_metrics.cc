// io.containerd.cgroups.v2.Metrics from a unified cgroup directory, as containerd's cgroups
// package fills it.
#include "base/file.h"
#include "base/strings.h"
#include "cgroups/cgroup_files.h"
#include "cgroups/cgroup_v2.h"
#include "github.com/containerd/cgroups/v2/stats/metrics.pb.h"

namespace shim::cgroups {
namespace {

namespace v2 = pb::io::containerd::cgroups::v2;

struct StatField {
  std::string_view key;
  uint64_t v2::MemoryStat::*field;
};
constexpr StatField kMemoryStat[] = {
    {"anon", &v2::MemoryStat::anon},
    {"file", &v2::MemoryStat::file},
    {"kernel_stack", &v2::MemoryStat::kernel_stack},
    {"slab", &v2::MemoryStat::slab},
    {"sock", &v2::MemoryStat::sock},
    {"shmem", &v2::MemoryStat::shmem},
    {"file_mapped", &v2::MemoryStat::file_mapped},
    {"file_dirty", &v2::MemoryStat::file_dirty},
    {"file_writeback", &v2::MemoryStat::file_writeback},
    {"anon_thp", &v2::MemoryStat::anon_thp},
    {"inactive_anon", &v2::MemoryStat::inactive_anon},
    {"active_anon", &v2::MemoryStat::active_anon},
    {"inactive_file", &v2::MemoryStat::inactive_file},
    {"active_file", &v2::MemoryStat::active_file},
    {"unevictable", &v2::MemoryStat::unevictable},
    {"slab_reclaimable", &v2::MemoryStat::slab_reclaimable},
    {"slab_unreclaimable", &v2::MemoryStat::slab_unreclaimable},
    {"pgfault", &v2::MemoryStat::pgfault},
    {"pgmajfault", &v2::MemoryStat::pgmajfault},
    {"workingset_nodereclaim", &v2::MemoryStat::workingset_nodereclaim},
    {"pgrefill", &v2::MemoryStat::pgrefill},
    {"pgscan", &v2::MemoryStat::pgscan},
    {"pgsteal", &v2::MemoryStat::pgsteal},
    {"pgactivate", &v2::MemoryStat::pgactivate},
    {"pgdeactivate", &v2::MemoryStat::pgdeactivate},
    {"pglazyfree", &v2::MemoryStat::pglazyfree},
    {"pglazyfreed", &v2::MemoryStat::pglazyfreed},
    {"thp_fault_alloc", &v2::MemoryStat::thp_fault_alloc},
    {"thp_collapse_alloc", &v2::MemoryStat::thp_collapse_alloc},
};

// Since 5.9 the kernel splits workingset_* into _anon and _file; the proto has one field.
uint64_t workingset(const KeyedValues& stat, std::string_view name) {
  uint64_t whole = lookup(stat, name);
  if (whole != 0) return whole;
  return lookup(stat, str_cat(name, "_anon")) + lookup(stat, str_cat(name, "_file"));
}

void fill_io(const std::string& text, v2::Metrics& m) {
  auto& io = m.io.emplace();
  // "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0"
  for (std::string_view line : split(text, '\n')) {
    auto words = split(trim(line), ' ');
    auto dev = split(words[0], ':');
    v2::IOEntry e;
    if (dev.size() != 2 || !parse_int(dev[0], e.major) || !parse_int(dev[1], e.minor)) continue;
    for (size_t i = 1; i < words.size(); ++i) {
      auto kv = split(words[i], '=');
      uint64_t v = 0;
      if (kv.size() != 2 || !parse_int(kv[1], v)) continue;
      if (kv[0] == "rbytes") e.rbytes = v;
      if (kv[0] == "wbytes") e.wbytes = v;
      if (kv[0] == "rios") e.rios = v;
      if (kv[0] == "wios") e.wios = v;
    }
    io.usage.push_back(e);
  }
}

}  // namespace

Result<uint64_t> CgroupV2::cpu_usage_ns() const {
  auto stat = read_keyed(file("cpu.stat"));
  SHIM_TRY(stat);
  return lookup(*stat, "usage_usec") * 1000;
}

Result<std::string> CgroupV2::metrics(std::string& type_url) const {
  v2::Metrics m;
  // Usage is the field every client reads: fail loudly rather than report an empty memory.
  auto usage = read_u64(file("memory.current"));
  if (!usage) return std::move(usage).error().wrap("memory stats");
  auto& mem = m.memory.emplace();
  mem.usage = *usage;
  mem.usage_limit = read_u64_or_zero(file("memory.max"));
  mem.swap_usage = read_u64_or_zero(file("memory.swap.current"));
  mem.swap_limit = read_u64_or_zero(file("memory.swap.max"));
  if (auto stat = read_keyed(file("memory.stat"))) {
    for (const auto& f : kMemoryStat) mem.*f.field = lookup(*stat, f.key);
    mem.workingset_refault = workingset(*stat, "workingset_refault");
    mem.workingset_activate = workingset(*stat, "workingset_activate");
  }
  if (auto events = read_keyed(file("memory.events"))) {
    auto& e = m.memory_events.emplace();
    e.low = lookup(*events, "low");
    e.high = lookup(*events, "high");
    e.max = lookup(*events, "max");
    e.oom = lookup(*events, "oom");
    e.oom_kill = lookup(*events, "oom_kill");
  }
  if (auto stat = read_keyed(file("cpu.stat"))) {
    auto& c = m.cpu.emplace();
    c.usage_usec = lookup(*stat, "usage_usec");
    c.user_usec = lookup(*stat, "user_usec");
    c.system_usec = lookup(*stat, "system_usec");
    c.nr_periods = lookup(*stat, "nr_periods");
    c.nr_throttled = lookup(*stat, "nr_throttled");
    c.throttled_usec = lookup(*stat, "throttled_usec");
  }
  if (auto current = read_u64(file("pids.current"))) {
    auto& p = m.pids.emplace();
    p.current = *current;
    p.limit = read_u64_or_zero(file("pids.max"), /*max_value=*/0);  // "max" reads as 0
  }
  for (const std::string& size : list_middles(dir_, "hugetlb.", ".current")) {
    auto& h = m.hugetlb.emplace_back();
    h.pagesize = size;
    h.current = read_u64_or_zero(file(str_cat("hugetlb.", size, ".current")));
    h.max = read_u64_or_zero(file(str_cat("hugetlb.", size, ".max")));
  }
  if (auto io = read_file(file("io.stat"))) fill_io(*io, m);
  type_url = "io.containerd.cgroups.v2.Metrics";
  return m.encode();
}

Result<uint64_t> CgroupV2::oom_kill_count() const {
  auto events = read_keyed(file("memory.events"));
  if (!events) return std::move(events).error();
  return lookup(*events, "oom_kill");
}

}  // namespace shim::cgroups
