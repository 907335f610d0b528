// Paths inside a container's rootfs, looked up from the host the way the container will see
// them: a symlink's target continues the walk inside the rootfs (an absolute one from its
// root), and ".." never climbs above it, so nothing on the host outside is ever reached.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <string>
#include <string_view>

namespace shim {

struct RootfsWalk {
  enum class Outcome {
    kFound,    // host_path exists; st is its lstat (never a symlink)
    kMissing,  // a component does not exist (or a non-directory stands where one must)
    kStopped,  // `stop_at` said so for container_path, or the walk could not go on (ELOOP)
  };
  Outcome outcome = Outcome::kMissing;
  std::string container_path;  // how far the walk got, as the container sees it
  std::string host_path;       // the same, on the host
  struct stat st {};
};

// Walks `path` (absolute, as seen inside) under `rootfs`. `stop_at`, if given, is asked about
// every component reached and ends the walk when it says true. With `create`, missing
// directories are made (mode 0755) on the way, the last component too.
RootfsWalk walk_in_rootfs(const std::string& rootfs, std::string_view path,
                          const std::function<bool(const std::string&)>& stop_at = {},
                          bool create = false);

}  // namespace shim
