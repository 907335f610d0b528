// Does the container's binary exist? runc fails Create for a missing one; runsc notices only at
// start, after containerd already holds a created task (and publishes its exit). So the shim
// looks, as runc does: process.args[0] against the spec's PATH, inside the rootfs, following
// symlinks the way the container would see them, never out onto the host.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/error.h"

namespace shim {

// InvalidArgument naming the binary when it is certainly missing. Says nothing (ok) when it
// cannot know: no args, no PATH, an empty (unmounted) rootfs, or a path that one of the
// spec's own mounts covers (the binary may come with the mount).
Result<void> check_executable(const nlohmann::json& spec, const std::string& bundle);

}  // namespace shim
