// cgroup v1: one directory per controller (the hybrid layout of this host).
#pragma once

#include "cgroups/cgroup.h"
#include "cgroups/resources.h"

namespace shim::cgroups {

class CgroupV1 final : public Cgroup {
 public:
  explicit CgroupV1(CgroupV1Paths paths) : paths_(std::move(paths)) {}

  Version version() const override { return Version::kV1; }
  const std::string& memory_dir() const override { return paths_.memory; }
  Result<std::string> metrics(std::string& type_url) const override;  // cgroup_v1_metrics.cc
  Result<void> apply(const Resources& resources) override;            // cgroup_v1_update.cc
  Result<uint64_t> cpu_usage_ns() const override;
  Result<uint64_t> oom_kill_count() const override;

  const CgroupV1Paths& paths() const { return paths_; }

 private:
  Result<void> update_memory(const Resources::Memory& memory);
  Result<void> update_cpu(const Resources::Cpu& cpu);

  CgroupV1Paths paths_;
};

}  // namespace shim::cgroups
