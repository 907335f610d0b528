#include "cgroups/container_metrics.h"

#include "github.com/containerd/cgroups/stats/v1/metrics.pb.h"
#include "github.com/containerd/cgroups/v2/stats/metrics.pb.h"

namespace shim {

std::string encode_container_metrics(Cgroup::Version version, const ContainerUsage& usage,
                                     std::string& type_url) {
  if (version == Cgroup::Version::kV2) {
    namespace v2 = pb::io::containerd::cgroups::v2;
    v2::Metrics m;
    m.pids = v2::PidsStat{usage.pids, 0};
    m.cpu.emplace();
    m.cpu->usage_usec = usage.cpu_ns / 1000;
    m.memory.emplace();
    m.memory->usage = usage.memory_bytes;
    type_url = "io.containerd.cgroups.v2.Metrics";
    return m.encode();
  }
  namespace v1 = pb::io::containerd::cgroups::v1;
  v1::Metrics m;
  m.pids = v1::PidsStat{usage.pids, 0};
  m.cpu.emplace();
  m.cpu->usage.emplace();
  m.cpu->usage->total = usage.cpu_ns;
  m.memory.emplace();
  m.memory->usage.emplace();
  m.memory->usage->usage = usage.memory_bytes;
  type_url = "io.containerd.cgroups.v1.Metrics";
  return m.encode();
}

}  // namespace shim
