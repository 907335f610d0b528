// A container: its bundle, its runsc driver, its init process and its execs.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cgroups/cgroup.h"
#include "cgroups/oom_watcher.h"
#include "cgroups/resources.h"
#include "process/process.h"
#include "runsc/runsc.h"

namespace shim {

struct Container {
  std::string id;
  std::string bundle;
  std::string ns;
  std::string rootfs;  // <bundle>/rootfs when the shim mounted it, else empty
  // The pod sandbox this container runs in: its own id, or for an app container (CRI) the
  // id of the pod's sandbox container, whose runsc root and sandbox process it shares.
  std::string sandbox_id;
  bool joins_sandbox = false;
  std::string checkpoint;  // a checkpoint image to restore at Start, else empty
  // The spec's linux.cgroupsPath: runsc makes it, and leaves it behind when a sandbox dies
  // while booting.
  std::string cgroups_path;
  // The owner of every process's stdio pipes (runc's IoUid/IoGid), execs' too.
  uint32_t io_uid = 0;
  uint32_t io_gid = 0;
  std::unique_ptr<Runsc> runsc;
  // What an exec's spec may leave out, from the container's own process (as `runsc exec`
  // fills it in): {"cwd": ..., "capabilities": ...}.
  nlohmann::json exec_defaults;
  // Execs go through the sandbox's control socket until it fails to serve one (a runsc whose
  // API differs); `runsc exec` from then on.
  bool direct_exec = true;
  // The host cgroup the sandbox runs in (stats, updates) and its OOM watch; absent when the
  // sandbox's cgroup could not be found (the container still runs).
  std::unique_ptr<Cgroup> cgroup;
  // What this container asked for (its spec's linux.resources, then each Update): in a pod the
  // sandbox's one cgroup gets the sum of its app containers' (cgroups::pod_total).
  cgroups::Resources requested;
  std::unique_ptr<OomWatcher> oom;
  std::shared_ptr<Process> init;
  std::map<std::string, std::shared_ptr<Process>> execs;

  // A sandbox that has exited is handed to `runsc delete` at once (TaskService::release),
  // while containerd is still on its way to Delete; Delete then waits for that instead of
  // starting its own. Set with true when runsc removed it.
  bool releasing = false;
  Oneshot<bool> released;

  // The init or an exec; nullptr when unknown.
  std::shared_ptr<Process> find(const std::string& exec_id) const {
    if (exec_id.empty()) return init;
    auto it = execs.find(exec_id);
    return it == execs.end() ? nullptr : it->second;
  }
};

}  // namespace shim
