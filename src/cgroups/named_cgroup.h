// A cgroup named by its path (as in a spec's cgroupsPath): moving a process into it (runc's
// ShimCgroup option puts the shim itself in a cgroup of the caller's choosing), and removing it
// where runsc left it behind.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "base/error.h"

namespace shim {

// Writes `pid` into `<path>/cgroup.procs` of every hierarchy under `root` that holds `path`
// (v1: one per controller mount; unified: the one tree). NotFound when none does.
Result<void> move_into_cgroup(pid_t pid, std::string_view path,
                              const std::string& root = "/sys/fs/cgroup");

// Removes `<path>` from every hierarchy under `root` where it is empty; the rest (missing,
// busy, a systemd-style "slice:prefix:name") is left as it is.
void remove_empty_cgroup(std::string_view path, const std::string& root = "/sys/fs/cgroup");

}  // namespace shim
