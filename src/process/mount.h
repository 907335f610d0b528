// Mounting the rootfs containerd hands to Create (snapshots: overlay, bind) onto
// <bundle>/rootfs, and taking it down again on delete.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace shim {

struct MountSpec {
  std::string type;
  std::string source;
  std::vector<std::string> options;  // fstab style: flags ("ro", "rbind") and data ("lowerdir=...")
};

// Splits fstab options into mount(2) flags and the data string.
struct MountFlags {
  unsigned long flags = 0;
  unsigned long propagation = 0;
  std::string data;
};
MountFlags parse_mount_options(const std::vector<std::string>& options);

Result<void> mount_all(const std::vector<MountSpec>& mounts, const std::string& target);
// Lazily detaches whatever is mounted at `target`; fine if nothing is.
Result<void> unmount_all(const std::string& target);

}  // namespace shim
