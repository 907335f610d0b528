// The cgroup a sandbox runs in: where its stats come from, where resource updates go (runsc
// has no `update`), and which memory files tell of an OOM kill. v1 and v2 are two
// implementations of this one interface.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"
#include "cgroups/resources.h"

namespace shim {

// Absolute directories of one process's v1 cgroups, one per controller; empty when the
// controller is not mounted (hugetlb is not, on this host).
struct CgroupV1Paths {
  std::string memory{};
  std::string cpu{};
  std::string cpuacct{};
  std::string cpuset{};
  std::string pids{};
  std::string blkio{};
  std::string hugetlb{};
};

class Cgroup {
 public:
  enum class Version { kV1, kV2 };

  virtual ~Cgroup() = default;

  // The cgroup `pid` runs in, read from <proc>/<pid>/cgroup. v2 only when the host is
  // unified-only (<root>/cgroup.controllers exists); on a hybrid host v1 holds the controllers.
  static Result<std::unique_ptr<Cgroup>> for_pid(pid_t pid, std::string root = "/sys/fs/cgroup",
                                                 std::string proc = "/proc");
  // The same, from the text of a /proc/<pid>/cgroup file (a seam for tests).
  static Result<std::unique_ptr<Cgroup>> from_proc_cgroup(std::string_view content,
                                                          const std::string& root);
  static std::unique_ptr<Cgroup> open_v1(CgroupV1Paths paths);
  static std::unique_ptr<Cgroup> open_v2(std::string dir);

  virtual Version version() const = 0;
  // The directory holding the memory files (v1: the memory controller's; v2: the cgroup's).
  virtual const std::string& memory_dir() const = 0;

  // Encoded io.containerd.cgroups.v1.Metrics or .v2.Metrics; `type_url` is set to match.
  // Memory usage is always filled: an unreadable memory file is an error, not an empty field.
  virtual Result<std::string> metrics(std::string& type_url) const = 0;

  // Applies an OCI LinuxResources JSON document (memory, cpu, pids). Anything that cannot be
  // applied is refused with InvalidArgument; a kernel refusal names the file and the errno.
  Result<void> update(std::string_view linux_resources_json);
  // The same, already parsed.
  virtual Result<void> apply(const cgroups::Resources& resources) = 0;

  // CPU time used by the cgroup's processes, in nanoseconds.
  virtual Result<uint64_t> cpu_usage_ns() const = 0;

  // The memory cgroup's count of OOM kills (v1 memory.oom_control, v2 memory.events).
  virtual Result<uint64_t> oom_kill_count() const = 0;
};

}  // namespace shim
