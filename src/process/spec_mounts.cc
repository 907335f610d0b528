#include "process/spec_mounts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/strings.h"
#include "process/bundle_spec.h"
#include "process/rootfs_path.h"

namespace shim {
namespace {

bool is_file_bind(const nlohmann::json& mount) {
  std::string type = string_field(mount, "type");
  if (type != "bind" && type != "rbind" && type != "") return false;
  struct stat st;
  std::string source = string_field(mount, "source");
  return !source.empty() && ::stat(source.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
}

}  // namespace

std::string spec_rootfs(const nlohmann::json& spec, const std::string& bundle) {
  if (!spec.is_object()) return {};
  auto root = spec.find("root");
  std::string path = root == spec.end() ? std::string() : string_field(*root, "path");
  if (path.empty() || path.starts_with('/')) return path;
  return str_cat(bundle, "/", path);
}

std::vector<std::string> spec_mount_points(const nlohmann::json& spec) {
  std::vector<std::string> points;
  auto mounts = spec.is_object() ? spec.find("mounts") : spec.end();
  if (mounts == spec.end() || !mounts->is_array()) return points;
  for (const auto& m : *mounts) points.push_back(string_field(m, "destination"));
  return points;
}

bool covered_by_mount(const std::vector<std::string>& mount_points, std::string_view path) {
  for (const auto& m : mount_points) {
    if (m.empty() || m == "/") continue;
    if (path == m || (path.starts_with(m) && path.size() > m.size() && path[m.size()] == '/')) {
      return true;
    }
  }
  return false;
}

Result<void> make_mount_points(const nlohmann::json& spec, const std::string& bundle) {
  std::string rootfs = spec_rootfs(spec, bundle);
  if (rootfs.empty()) return ok();
  std::vector<std::string> points = spec_mount_points(spec);
  auto mounts = spec.find("mounts");
  for (size_t i = 0; i < points.size(); ++i) {
    const std::string& point = points[i];
    if (!point.starts_with('/') || point == "/") continue;
    // A mount point inside another mount (/dev/pts in the /dev tmpfs) is that mount's business.
    std::string parent = point.substr(0, point.rfind('/'));
    if (!parent.empty() && covered_by_mount(points, parent)) continue;
    bool file = is_file_bind((*mounts)[i]);
    auto walk = walk_in_rootfs(rootfs, file ? parent : point, {}, /*create=*/true);
    if (walk.outcome != RootfsWalk::Outcome::kFound) {
      return Error(Code::kFailedPrecondition, str_cat("make mount point ", point, " in ", rootfs,
                                                      ": cannot resolve ", walk.container_path));
    }
    if (file) {
      std::string name = point.substr(point.rfind('/'));
      std::string target = walk.host_path + name;
      struct stat st;
      if (::lstat(target.c_str(), &st) == 0) continue;  // whatever is there, runsc judges
      int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (fd < 0) return errno_error(str_cat("make mount point ", point));
      ::close(fd);
    }
  }
  return ok();
}

}  // namespace shim
