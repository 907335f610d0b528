// Resource updates on v1: the files runc's `update` writes, in an order the kernel accepts.
#include "base/file.h"
#include "base/strings.h"
#include "cgroups/cgroup_files.h"
#include "cgroups/cgroup_v1.h"

namespace shim::cgroups {
namespace {

// v1 takes -1 for "unlimited" in every limit file.
std::string number(int64_t v) { return str_cat(v); }

Error no_controller(std::string_view name) {
  return Error(Code::kFailedPrecondition, str_cat("no ", name, " cgroup to update"));
}

}  // namespace

Result<void> CgroupV1::apply(const Resources& resources) {
  SHIM_TRY(update_memory(resources.memory));
  SHIM_TRY(update_cpu(resources.cpu));
  if (resources.pids_limit) {
    if (paths_.pids.empty()) return no_controller("pids");
    std::string v = *resources.pids_limit == kUnlimited ? "max" : number(*resources.pids_limit);
    SHIM_TRY(write_value(paths_.pids + "/pids.max", v));
  }
  return ok();
}

Result<void> CgroupV1::update_memory(const Resources::Memory& memory) {
  if (!memory.limit && !memory.reservation && !memory.swap) return ok();
  if (paths_.memory.empty()) return no_controller("memory");
  const std::string limit_file = paths_.memory + "/memory.limit_in_bytes";
  const std::string memsw_file = paths_.memory + "/memory.memsw.limit_in_bytes";
  const bool has_memsw = path_exists(memsw_file);

  std::optional<int64_t> swap = memory.swap;
  if (swap && memory.limit && *swap != kUnlimited &&
      (*memory.limit == kUnlimited || *swap < *memory.limit)) {
    return Error(
        Code::kInvalidArgument,
        str_cat("memory.swap (", *swap, ") must be at least memory.limit (", *memory.limit, ")"));
  }
  // Lifting the limit while memsw stays finite is refused by the kernel (limit <= memsw);
  // runc lifts both, and so do we.
  if (memory.limit == kUnlimited && !swap && has_memsw) swap = kUnlimited;
  if (swap && !has_memsw) {
    if (swap != memory.limit) {
      return Error(Code::kFailedPrecondition,
                   "updating memory.swap needs swap accounting, which this kernel lacks");
    }
    swap.reset();  // memory+swap == memory: nothing to do without swap accounting
  }

  if (memory.limit && swap) {
    // The kernel keeps limit <= memsw after every single write: grow memsw first, shrink the
    // limit first.
    auto current = read_u64(memsw_file);
    if (!current) return std::move(current).error().wrap("memory update");
    bool grow = *swap == kUnlimited || static_cast<uint64_t>(*swap) >= *current;
    if (grow) {
      SHIM_TRY(write_value(memsw_file, number(*swap)));
      SHIM_TRY(write_value(limit_file, number(*memory.limit)));
    } else {
      SHIM_TRY(write_value(limit_file, number(*memory.limit)));
      SHIM_TRY(write_value(memsw_file, number(*swap)));
    }
  } else if (memory.limit) {
    SHIM_TRY(write_value(limit_file, number(*memory.limit)));
  } else if (swap) {
    SHIM_TRY(write_value(memsw_file, number(*swap)));
  }
  if (memory.reservation) {
    SHIM_TRY(
        write_value(paths_.memory + "/memory.soft_limit_in_bytes", number(*memory.reservation)));
  }
  return ok();
}

Result<void> CgroupV1::update_cpu(const Resources::Cpu& cpu) {
  if (cpu.shares || cpu.period || cpu.quota) {
    if (paths_.cpu.empty()) return no_controller("cpu");
    if (cpu.shares) SHIM_TRY(write_value(paths_.cpu + "/cpu.shares", number(*cpu.shares)));
    const std::string period_file = paths_.cpu + "/cpu.cfs_period_us";
    const std::string quota_file = paths_.cpu + "/cpu.cfs_quota_us";
    if (cpu.period && cpu.quota) {
      // A new period can be refused against the old quota (or the reverse) by a parent's
      // bandwidth; if the period goes first and fails, try the quota first instead.
      if (auto r = write_value(period_file, number(*cpu.period)); !r) {
        SHIM_TRY(write_value(quota_file, number(*cpu.quota)));
        SHIM_TRY(write_value(period_file, number(*cpu.period)));
      } else {
        SHIM_TRY(write_value(quota_file, number(*cpu.quota)));
      }
    } else if (cpu.period) {
      SHIM_TRY(write_value(period_file, number(*cpu.period)));
    } else if (cpu.quota) {
      SHIM_TRY(write_value(quota_file, number(*cpu.quota)));
    }
  }
  if (!cpu.cpus.empty() || !cpu.mems.empty()) {
    if (paths_.cpuset.empty()) return no_controller("cpuset");
    if (!cpu.cpus.empty()) SHIM_TRY(write_value(paths_.cpuset + "/cpuset.cpus", cpu.cpus));
    if (!cpu.mems.empty()) SHIM_TRY(write_value(paths_.cpuset + "/cpuset.mems", cpu.mems));
  }
  return ok();
}

}  // namespace shim::cgroups
