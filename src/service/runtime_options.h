// The runtime options containerd sends with Create (and on `start`'s stdin): which shim TOML
// to read, and what of runc's option types applies to a gVisor sandbox.
//
// Three types arrive: runtimeoptions.v1.Options (the CRI plugin; `ctr --runtime-config-path`
// sends it without a type URL), containerd.linux.runc.CreateOptions (containerd's client sends
// it to runtimes it does not know) and containerd.runc.v1.Options (the runc v2 shim's type,
// in configs copied from runc setups).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/error.h"
#include "google/protobuf/any.pb.h"
#include "runsc/config.h"

namespace shim {

struct RuntimeOptions {
  std::string config_path;  // the shim TOML; empty: the default path
  std::string binary_name;  // overrides the TOML's runsc binary when set
  std::string root;         // overrides the TOML's runsc state root when set
  std::string shim_cgroup;  // the cgroup the shim moves into at start
  bool systemd_cgroup = false;
  // Owner of the stdio pipes and fifos the process writes to (user-namespace containers).
  uint32_t io_uid = 0;
  uint32_t io_gid = 0;
  // runc's CriuImagePath: a checkpoint image to restore from (containerd's client sets it with
  // WithRestoreImagePath; containerd itself passes it on only to runc).
  std::string restore_image;

  bool chowns_io() const { return io_uid != 0 || io_gid != 0; }
};

// No options (or empty ones) give the defaults; an unknown type or malformed bytes are
// InvalidArgument. runc-only fields (the criu binary and work paths, NoPivotRoot, NoNewKeyring)
// are ignored with one debug line.
Result<RuntimeOptions> decode_runtime_options(const std::optional<pb::google::protobuf::Any>& any);

// CheckpointTaskRequest.options: runc's CheckpointOptions (either package). What applies to
// runsc: stop the container once checkpointed, and where the client wants the image.
struct CheckpointOptions {
  bool exit = false;
  std::string image_path;  // empty: CheckpointTaskRequest.path
};
Result<CheckpointOptions> decode_checkpoint_options(
    const std::optional<pb::google::protobuf::Any>& any);

// The shim TOML the options name, with their runsc binary and root applied on top, and
// systemd cgroups passed on as runsc's --systemd-cgroup.
Result<ShimConfig> shim_config_for(const RuntimeOptions& options);

}  // namespace shim
