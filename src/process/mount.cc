#include "process/mount.h"

#include <sys/mount.h>

#include <cerrno>
#include <string_view>

#include "base/strings.h"

namespace shim {
namespace {

struct FlagOption {
  std::string_view name;
  bool clear;
  unsigned long flag;
};

constexpr FlagOption kFlagOptions[] = {
    {"async", true, MS_SYNCHRONOUS},
    {"atime", true, MS_NOATIME},
    {"bind", false, MS_BIND},
    {"defaults", false, 0},
    {"dev", true, MS_NODEV},
    {"diratime", true, MS_NODIRATIME},
    {"dirsync", false, MS_DIRSYNC},
    {"exec", true, MS_NOEXEC},
    {"mand", false, MS_MANDLOCK},
    {"noatime", false, MS_NOATIME},
    {"nodev", false, MS_NODEV},
    {"nodiratime", false, MS_NODIRATIME},
    {"noexec", false, MS_NOEXEC},
    {"nomand", true, MS_MANDLOCK},
    {"norelatime", true, MS_RELATIME},
    {"nostrictatime", true, MS_STRICTATIME},
    {"nosuid", false, MS_NOSUID},
    {"rbind", false, MS_BIND | MS_REC},
    {"relatime", false, MS_RELATIME},
    {"remount", false, MS_REMOUNT},
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"strictatime", false, MS_STRICTATIME},
    {"suid", true, MS_NOSUID},
    {"sync", false, MS_SYNCHRONOUS},
};

constexpr FlagOption kPropagation[] = {
    {"private", false, MS_PRIVATE},       {"rprivate", false, MS_PRIVATE | MS_REC},
    {"shared", false, MS_SHARED},         {"rshared", false, MS_SHARED | MS_REC},
    {"slave", false, MS_SLAVE},           {"rslave", false, MS_SLAVE | MS_REC},
    {"unbindable", false, MS_UNBINDABLE}, {"runbindable", false, MS_UNBINDABLE | MS_REC},
};

}  // namespace

MountFlags parse_mount_options(const std::vector<std::string>& options) {
  MountFlags out;
  for (const std::string& option : options) {
    bool known = false;
    for (const auto& f : kFlagOptions) {
      if (f.name == option) {
        out.flags = f.clear ? (out.flags & ~f.flag) : (out.flags | f.flag);
        known = true;
        break;
      }
    }
    for (const auto& p : kPropagation) {
      if (!known && p.name == option) {
        out.propagation |= p.flag;
        known = true;
      }
    }
    if (!known) {
      if (!out.data.empty()) out.data.push_back(',');
      out.data.append(option);
    }
  }
  return out;
}

Result<void> mount_all(const std::vector<MountSpec>& mounts, const std::string& target) {
  for (const MountSpec& m : mounts) {
    MountFlags f = parse_mount_options(m.options);
    const char* data = f.data.empty() ? nullptr : f.data.c_str();
    if (::mount(m.source.c_str(), target.c_str(), m.type.c_str(), f.flags, data) != 0) {
      Error e = errno_error(str_cat("mount ", m.type, " ", m.source, " on ", target));
      (void)unmount_all(target);
      return e;
    }
    // A bind mount ignores ro on the first call; it takes a remount to apply it.
    if ((f.flags & MS_BIND) && (f.flags & MS_RDONLY)) {
      ::mount("", target.c_str(), nullptr, f.flags | MS_REMOUNT, nullptr);
    }
    if (f.propagation && ::mount("", target.c_str(), nullptr, f.propagation, nullptr) != 0) {
      Error e = errno_error(str_cat("set propagation of ", target));
      (void)unmount_all(target);
      return e;
    }
  }
  return ok();
}

Result<void> unmount_all(const std::string& target) {
  // Stacked mounts come off one at a time; EINVAL means nothing (more) is mounted there.
  for (int i = 0; i < 32; ++i) {
    if (::umount2(target.c_str(), MNT_DETACH) != 0) {
      if (errno == EINVAL || errno == ENOENT) return ok();
      return errno_error(str_cat("unmount ", target));
    }
  }
  return ok();
}

}  // namespace shim
