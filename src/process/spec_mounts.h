// What a spec's mounts mean for its rootfs: which paths a mount covers (so the rootfs says
// nothing about them), and the mount points a restore needs there.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace shim {

// The rootfs directory on the host: root.path, absolute or relative to the bundle; "" if none.
std::string spec_rootfs(const nlohmann::json& spec, const std::string& bundle);
// The destinations of the spec's mounts, in order.
std::vector<std::string> spec_mount_points(const nlohmann::json& spec);
// Whether `path` is at or below one of `mount_points` other than "/".
bool covered_by_mount(const std::vector<std::string>& mount_points, std::string_view path);

// `runsc create` makes the mount points it needs in the rootfs, `runsc restore` does not (it
// fails "no such file or directory" on a fresh snapshot: containerd's default spec mounts a
// tmpfs on /run, which images rarely have). So before a restore: every mount point that no
// other mount covers is made in the rootfs, a directory, or an empty file for a file bind
// mount; never outside the rootfs.
Result<void> make_mount_points(const nlohmann::json& spec, const std::string& bundle);

}  // namespace shim
