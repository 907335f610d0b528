// Metrics for one container of a pod, which the host cannot measure (gVisor keeps the whole
// pod in one host cgroup): figures the sandbox itself accounts, put in the Metrics type that
// containerd and the CRI read on this host (io.containerd.cgroups.v1 or v2).
#pragma once

#include <cstdint>
#include <string>

#include "cgroups/cgroup.h"

namespace shim {

struct ContainerUsage {
  uint64_t memory_bytes = 0;
  uint64_t cpu_ns = 0;
  uint64_t pids = 0;
};

// The encoded Metrics; `type_url` is set to match `version`.
std::string encode_container_metrics(Cgroup::Version version, const ContainerUsage& usage,
                                     std::string& type_url);

}  // namespace shim
