// What `delete` needs to clean up after a shim that died: the runsc config and the sandbox.
// Written into the bundle at Create, read back by `containerd-shim-runsc-v1 delete`.
#pragma once

#include <string>

#include "base/error.h"

namespace shim {

struct BundleRecord {
  std::string config_path;  // the shim TOML (empty: the default path)
  // runc.v1.Options' BinaryName and Root, which override the TOML's; empty when not given.
  std::string runsc_binary;
  std::string runsc_root;
  std::string sandbox_id;  // names the runsc root <root>/<ns>/<sandbox id>
  bool rootfs_mounted = false;
};

inline constexpr const char* kBundleRecordFile = "runsc-shim.json";

Result<void> write_bundle_record(const std::string& bundle, const BundleRecord& record);
Result<BundleRecord> read_bundle_record(const std::string& bundle);

}  // namespace shim
