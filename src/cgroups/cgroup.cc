// Finding a process's cgroup from /proc/<pid>/cgroup, and choosing v1 or v2 for it.
#include "cgroups/cgroup.h"

#include "base/file.h"
#include "base/strings.h"
#include "cgroups/cgroup_v1.h"
#include "cgroups/cgroup_v2.h"

namespace shim {
namespace {

// "/" joins as nothing, so the root cgroup is the mount point itself.
std::string join(const std::string& base, std::string_view path) {
  if (path == "/") return base;
  return str_cat(base, path);
}

bool safe_path(std::string_view path) {
  if (!starts_with(path, "/")) return false;
  for (std::string_view part : split(path, '/')) {
    if (part == "..") return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<Cgroup> Cgroup::open_v1(CgroupV1Paths paths) {
  return std::make_unique<cgroups::CgroupV1>(std::move(paths));
}

std::unique_ptr<Cgroup> Cgroup::open_v2(std::string dir) {
  return std::make_unique<cgroups::CgroupV2>(std::move(dir));
}

Result<std::unique_ptr<Cgroup>> Cgroup::from_proc_cgroup(std::string_view content,
                                                         const std::string& root) {
  // A hybrid host also lists a "0::" line (the unified mount, without the controllers this
  // shim needs), so v2 is chosen by the host's layout, not by that line being there.
  const bool unified = path_exists(root + "/cgroup.controllers");
  CgroupV1Paths v1;
  for (std::string_view line : split(content, '\n')) {
    line = trim(line);
    if (line.empty()) continue;
    // "hierarchy-id:controller,controller:path"; the path itself may hold ':'.
    size_t first = line.find(':');
    size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) {
      return Error(Code::kInvalidArgument, str_cat("malformed cgroup line \"", line, "\""));
    }
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    std::string_view path = line.substr(second + 1);
    if (!safe_path(path)) {
      return Error(Code::kInvalidArgument, str_cat("unexpected cgroup path \"", path, "\""));
    }
    if (controllers.empty()) {
      if (unified && line.substr(0, first) == "0") return open_v2(join(root, path));
      continue;
    }
    for (std::string_view c : split(controllers, ',')) {
      std::string dir = join(str_cat(root, "/", c), path);
      if (c == "memory") v1.memory = dir;
      if (c == "cpu") v1.cpu = dir;
      if (c == "cpuacct") v1.cpuacct = dir;
      if (c == "cpuset") v1.cpuset = dir;
      if (c == "pids") v1.pids = dir;
      if (c == "blkio") v1.blkio = dir;
      if (c == "hugetlb") v1.hugetlb = dir;
    }
  }
  if (unified) return Error(Code::kNotFound, "no cgroup v2 (0::) entry");
  if (v1.memory.empty()) return Error(Code::kNotFound, "no v1 memory cgroup");
  return open_v1(std::move(v1));
}

Result<void> Cgroup::update(std::string_view linux_resources_json) {
  auto resources = cgroups::parse_linux_resources(linux_resources_json);
  SHIM_TRY(resources);
  return apply(*resources);
}

Result<std::unique_ptr<Cgroup>> Cgroup::for_pid(pid_t pid, std::string root, std::string proc) {
  std::string path = str_cat(proc, "/", pid, "/cgroup");
  auto content = read_file(path);
  if (!content) return std::move(content).error().wrap(str_cat("cgroup of pid ", pid));
  auto cgroup = from_proc_cgroup(*content, root);
  if (!cgroup) return std::move(cgroup).error().wrap(path);
  return cgroup;
}

}  // namespace shim
