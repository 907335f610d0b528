// cgroup v2: one directory holding every controller's files (unified-only hosts).
#pragma once

#include "cgroups/cgroup.h"
#include "cgroups/resources.h"

namespace shim::cgroups {

class CgroupV2 final : public Cgroup {
 public:
  explicit CgroupV2(std::string dir) : dir_(std::move(dir)) {}

  Version version() const override { return Version::kV2; }
  const std::string& memory_dir() const override { return dir_; }
  Result<std::string> metrics(std::string& type_url) const override;  // cgroup_v2_metrics.cc
  Result<void> apply(const Resources& resources) override;            // cgroup_v2_update.cc
  Result<uint64_t> cpu_usage_ns() const override;
  Result<uint64_t> oom_kill_count() const override;

 private:
  std::string file(std::string_view name) const { return dir_ + "/" + std::string(name); }
  Result<void> update_memory(const Resources::Memory& memory);
  Result<void> update_cpu(const Resources::Cpu& cpu);

  std::string dir_;
};

}  // namespace shim::cgroups
