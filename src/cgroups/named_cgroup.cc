#include "cgroups/named_cgroup.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "base/file.h"
#include "base/strings.h"
#include "cgroups/cgroup_files.h"

namespace shim {
namespace {

bool is_plain_path(std::string_view path) {
  if (!path.starts_with('/') || path.find(':') != std::string_view::npos) return false;
  for (std::string_view part : split(path, '/')) {
    if (part == "..") return false;
  }
  return true;
}

// The directories `path` names: one under a unified root, else one per v1 hierarchy (the
// single-controller names beside a joint mount, "cpu" -> "cpu,cpuacct", are symlinks, skipped).
Result<std::vector<std::string>> cgroup_dirs(std::string_view path, const std::string& root) {
  if (path_exists(root + "/cgroup.controllers")) return std::vector{str_cat(root, path)};
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(root.c_str()), ::closedir);
  if (!dir) return errno_error(str_cat("open ", root));
  std::vector<std::string> dirs;
  while (dirent* entry = ::readdir(dir.get())) {
    std::string name = entry->d_name;
    if (name.starts_with('.') || entry->d_type != DT_DIR) continue;
    dirs.push_back(str_cat(root, "/", name, path));
  }
  return dirs;
}

}  // namespace

Result<void> move_into_cgroup(pid_t pid, std::string_view path, const std::string& root) {
  if (!is_plain_path(path)) {
    return Error(Code::kInvalidArgument,
                 str_cat("cgroup path \"", path, "\": want an absolute path without .."));
  }
  auto dirs = cgroup_dirs(path, root);
  SHIM_TRY(dirs);
  std::string value = std::to_string(pid);
  int joined = 0;
  for (const auto& dir : *dirs) {
    std::string procs = dir + "/cgroup.procs";
    if (!path_exists(procs)) continue;
    if (auto r = cgroups::write_value(procs, value); !r) return std::move(r).error();
    ++joined;
  }
  if (joined == 0) return Error(Code::kNotFound, str_cat("no cgroup ", path, " under ", root));
  return ok();
}

void remove_empty_cgroup(std::string_view path, const std::string& root) {
  if (!is_plain_path(path) || path == "/") return;
  auto dirs = cgroup_dirs(path, root);
  if (!dirs) return;
  for (const auto& dir : *dirs) ::rmdir(dir.c_str());  // EBUSY or ENOENT: not ours to remove
}

}  // namespace shim
