// Resource updates on v2: OCI (v1-shaped) values converted as containerd and runc convert
// them — shares to cpu.weight, memory+swap to swap alone, -1 to "max".
#include "base/file.h"
#include "base/strings.h"
#include "cgroups/cgroup_files.h"
#include "cgroups/cgroup_v2.h"

namespace shim::cgroups {
namespace {

std::string limit_value(int64_t v) { return v == kUnlimited ? std::string("max") : str_cat(v); }

}  // namespace

Result<void> CgroupV2::apply(const Resources& resources) {
  SHIM_TRY(update_memory(resources.memory));
  SHIM_TRY(update_cpu(resources.cpu));
  if (resources.pids_limit) {
    SHIM_TRY(write_value(file("pids.max"), limit_value(*resources.pids_limit)));
  }
  return ok();
}

Result<void> CgroupV2::update_memory(const Resources::Memory& memory) {
  // OCI swap is memory+swap (v1's memsw); v2's memory.swap.max counts swap alone.
  std::optional<std::string> swap_max;
  if (memory.swap == kUnlimited) {
    swap_max = "max";
  } else if (memory.swap) {
    if (!memory.limit || *memory.limit == kUnlimited) {
      return Error(Code::kInvalidArgument,
                   "memory.swap needs a memory.limit in the same update on cgroup v2");
    }
    if (*memory.swap < *memory.limit) {
      return Error(Code::kInvalidArgument,
                   str_cat("memory.swap (", *memory.swap, ") must be at least memory.limit (",
                           *memory.limit, ")"));
    }
    swap_max = str_cat(*memory.swap - *memory.limit);
  }
  // memory.max and memory.swap.max are independent on v2: no ordering to keep.
  if (memory.limit) SHIM_TRY(write_value(file("memory.max"), limit_value(*memory.limit)));
  if (swap_max) SHIM_TRY(write_value(file("memory.swap.max"), *swap_max));
  if (memory.reservation) {
    SHIM_TRY(write_value(file("memory.low"), limit_value(*memory.reservation)));
  }
  return ok();
}

Result<void> CgroupV2::update_cpu(const Resources::Cpu& cpu) {
  if (cpu.shares) SHIM_TRY(write_value(file("cpu.weight"), str_cat(shares_to_weight(*cpu.shares))));
  if (cpu.quota || cpu.period) {
    // cpu.max is "<quota|max> <period>"; keep whichever half the update leaves out.
    std::string quota = cpu.quota ? limit_value(*cpu.quota) : std::string("max");
    std::string period = cpu.period ? str_cat(*cpu.period) : std::string("100000");
    if (!cpu.quota || !cpu.period) {
      auto current = read_file(file("cpu.max"));
      if (!current) return std::move(current).error().wrap("cpu update");
      auto words = split(trim(*current), ' ');
      if (!cpu.quota && !words.empty()) quota = std::string(words[0]);
      if (!cpu.period && words.size() == 2) period = std::string(words[1]);
    }
    SHIM_TRY(write_value(file("cpu.max"), str_cat(quota, " ", period)));
  }
  if (!cpu.cpus.empty()) SHIM_TRY(write_value(file("cpuset.cpus"), cpu.cpus));
  if (!cpu.mems.empty()) SHIM_TRY(write_value(file("cpuset.mems"), cpu.mems));
  return ok();
}

}  // namespace shim::cgroups
