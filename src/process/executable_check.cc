#include "process/executable_check.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "process/bundle_spec.h"
#include "process/rootfs_path.h"
#include "process/spec_mounts.h"

namespace shim {
namespace {

enum class Lookup { kExecutable, kNotExecutable, kMissing, kUnknown };

struct Rootfs {
  std::string host_dir;                   // where the rootfs is on the host
  std::vector<std::string> mount_points;  // the spec's mount destinations

  bool covered(const std::string& path) const { return covered_by_mount(mount_points, path); }

  Lookup lookup(std::string_view path) const {
    auto walk = walk_in_rootfs(host_dir, path, [this](const std::string& p) { return covered(p); });
    switch (walk.outcome) {
      case RootfsWalk::Outcome::kStopped:
        return Lookup::kUnknown;
      case RootfsWalk::Outcome::kMissing:
        return Lookup::kMissing;
      case RootfsWalk::Outcome::kFound:
        break;
    }
    if (!S_ISREG(walk.st.st_mode)) return Lookup::kNotExecutable;
    return (walk.st.st_mode & 0111) ? Lookup::kExecutable : Lookup::kNotExecutable;
  }
};

bool is_empty_dir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return true;
  bool empty = true;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

// The last PATH= of the process's environment (the one a lookup would use), or nullopt.
std::optional<std::string> path_variable(const nlohmann::json& process) {
  std::optional<std::string> path;
  auto env = process.find("env");
  if (env == process.end() || !env->is_array()) return path;
  for (const auto& entry : *env) {
    if (entry.is_string() && entry.get<std::string>().starts_with("PATH=")) {
      path = entry.get<std::string>().substr(5);
    }
  }
  return path;
}

}  // namespace

Result<void> check_executable(const nlohmann::json& spec, const std::string& bundle) {
  if (!spec.is_object()) return ok();
  auto process = spec.find("process");
  if (process == spec.end() || !process->is_object()) return ok();
  auto args = process->find("args");
  if (args == process->end() || !args->is_array() || args->empty() || !(*args)[0].is_string()) {
    return ok();
  }
  std::string binary = (*args)[0].get<std::string>();
  Rootfs rootfs{spec_rootfs(spec, bundle), spec_mount_points(spec)};
  if (binary.empty() || rootfs.host_dir.empty()) return ok();
  if (is_empty_dir(rootfs.host_dir)) return ok();  // not mounted yet: nothing to look at

  std::vector<std::string> candidates;
  if (binary.find('/') != std::string::npos) {
    std::string cwd = string_field(*process, "cwd");
    candidates.push_back(binary.starts_with('/') ? binary
                                                 : str_cat(cwd.empty() ? "/" : cwd, "/", binary));
  } else {
    auto path = path_variable(*process);
    if (!path) return ok();  // runsc's own lookup will say what it finds
    for (std::string_view dir : split(*path, ':')) {
      // Relative PATH entries are skipped by the lookup inside the sandbox too.
      if (dir.starts_with('/')) candidates.push_back(str_cat(dir, "/", binary));
    }
  }
  bool not_executable = false;
  for (const auto& candidate : candidates) {
    switch (rootfs.lookup(candidate)) {
      case Lookup::kExecutable:
      case Lookup::kUnknown:
        return ok();
      case Lookup::kNotExecutable:
        not_executable = true;
        break;
      case Lookup::kMissing:
        break;
    }
  }
  if (binary.find('/') != std::string::npos) {
    return Error(Code::kInvalidArgument,
                 str_cat("exec: \"", binary, "\": ",
                         not_executable ? "permission denied" : "no such file or directory"));
  }
  return Error(Code::kInvalidArgument,
               str_cat("exec: \"", binary, "\": executable file not found in $PATH"));
}

}  // namespace shim
