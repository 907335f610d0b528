// The part of an OCI LinuxResources document a cgroup update can apply, checked once for both
// cgroup versions. Zero means "leave as is" (as runc reads it); -1 means unlimited.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace shim::cgroups {

inline constexpr int64_t kUnlimited = -1;

struct Resources {
  struct Memory {
    std::optional<int64_t> limit;        // bytes or kUnlimited
    std::optional<int64_t> reservation;  // bytes or kUnlimited
    std::optional<int64_t> swap;         // memory+swap bytes (v1 memsw semantics) or kUnlimited
  } memory;
  struct Cpu {
    std::optional<uint64_t> shares;  // 2..262144
    std::optional<int64_t> quota;    // microseconds per period or kUnlimited
    std::optional<uint64_t> period;  // microseconds
    std::string cpus;                // cpuset list, "" = unchanged
    std::string mems;
  } cpu;
  std::optional<int64_t> pids_limit;  // count or kUnlimited

  bool empty() const;
};

// Parses and validates; InvalidArgument for malformed JSON, wrong types, values below -1 and
// sections this shim cannot apply ("updating blockIO is not supported").
Result<Resources> parse_linux_resources(std::string_view json);

// An update on top of what a container asked for before: what it names replaces, the rest stays.
void merge_into(Resources& kept, const Resources& update);

// What a pod's one host cgroup must allow when gVisor runs all its containers in it: the sum
// of what each asked for. A resource no container asked about stays unset (the cgroup keeps
// it); one that some container leaves unlimited is unlimited for the pod (a limit would cap
// that container by the others' requests). Quotas are summed as fractions of a CPU over the
// longest period; cpusets are joined when every container names one.
Resources pod_total(const std::vector<Resources>& containers);

// OCI cpu shares to cgroup v2 cpu.weight, the conversion containerd and runc use:
// [2, 262144] maps linearly onto [1, 10000].
uint64_t shares_to_weight(uint64_t shares);

}  // namespace shim::cgroups
