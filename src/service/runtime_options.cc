#include "service/runtime_options.h"

#include <algorithm>
#include <string_view>

#include "base/log.h"
#include "base/strings.h"
#include "github.com/containerd/containerd/pkg/runtimeoptions/v1/api.pb.h"
#include "github.com/containerd/containerd/runtime/linux/runctypes/runc.pb.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"

namespace shim {
namespace {

// A type URL names a message as "<prefix>/<full name>" (type.googleapis.com/...) or, as
// containerd's typeurl registry writes it, as the bare full name.
bool names(std::string_view type_url, std::string_view full_name) {
  if (type_url == full_name) return true;
  return type_url.size() > full_name.size() && type_url.ends_with(full_name) &&
         type_url[type_url.size() - full_name.size() - 1] == '/';
}

template <typename Message>
Result<Message> decode_as(const pb::google::protobuf::Any& any, std::string_view name) {
  Message decoded;
  if (!decoded.decode(any.value)) {
    return Error(Code::kInvalidArgument, str_cat("malformed ", name, " runtime options"));
  }
  return decoded;
}

void note_ignored(std::string_view type, bool no_pivot_root, bool no_new_keyring,
                  const std::string& criu_path, const std::string& criu_work) {
  if (!no_pivot_root && !no_new_keyring && criu_path.empty() && criu_work.empty()) return;
  log::debug(type, ": ignoring runc-only options (no_pivot_root ", no_pivot_root,
             ", no_new_keyring ", no_new_keyring, ", criu_path \"", criu_path,
             "\", criu_work_path \"", criu_work, "\")");
}

}  // namespace

Result<RuntimeOptions> decode_runtime_options(const std::optional<pb::google::protobuf::Any>& any) {
  RuntimeOptions out;
  if (!any || any->value.empty()) return out;
  const std::string& type = any->type_url;
  if (type.empty() || names(type, "runtimeoptions.v1.Options")) {
    auto o = decode_as<pb::runtimeoptions::v1::Options>(*any, "runtimeoptions.v1.Options");
    SHIM_TRY(o);
    out.config_path = o->config_path;
    return out;
  }
  if (names(type, "containerd.linux.runc.CreateOptions")) {
    auto o = decode_as<pb::containerd::linux::runc::CreateOptions>(*any, type);
    SHIM_TRY(o);
    out.shim_cgroup = o->shim_cgroup;
    out.io_uid = o->io_uid;
    out.io_gid = o->io_gid;
    out.restore_image = o->criu_image_path;
    note_ignored(type, o->no_pivot_root, o->no_new_keyring, "", o->criu_work_path);
    return out;
  }
  if (names(type, "containerd.runc.v1.Options")) {
    auto o = decode_as<pb::containerd::runc::v1::Options>(*any, type);
    SHIM_TRY(o);
    out.binary_name = o->binary_name;
    out.root = o->root;
    out.shim_cgroup = o->shim_cgroup;
    out.systemd_cgroup = o->systemd_cgroup;
    out.io_uid = o->io_uid;
    out.io_gid = o->io_gid;
    out.restore_image = o->criu_image_path;
    note_ignored(type, o->no_pivot_root, o->no_new_keyring, o->criu_path, o->criu_work_path);
    return out;
  }
  return Error(Code::kInvalidArgument,
               str_cat("unsupported runtime options type \"", type,
                       "\" (want runtimeoptions.v1.Options, containerd.runc.v1.Options or "
                       "containerd.linux.runc.CreateOptions)"));
}

Result<CheckpointOptions> decode_checkpoint_options(
    const std::optional<pb::google::protobuf::Any>& any) {
  CheckpointOptions out;
  if (!any || any->value.empty()) return out;
  const std::string& type = any->type_url;
  // The two packages number image_path differently (8 in runc.v1, 9 in linux.runc).
  if (names(type, "containerd.runc.v1.CheckpointOptions")) {
    auto o = decode_as<pb::containerd::runc::v1::CheckpointOptions>(*any, type);
    SHIM_TRY(o);
    out.exit = o->exit;
    out.image_path = o->image_path;
    return out;
  }
  if (names(type, "containerd.linux.runc.CheckpointOptions")) {
    auto o = decode_as<pb::containerd::linux::runc::CheckpointOptions>(*any, type);
    SHIM_TRY(o);
    out.exit = o->exit;
    out.image_path = o->image_path;
    return out;
  }
  return Error(Code::kInvalidArgument, str_cat("unsupported checkpoint options type \"", type,
                                               "\" (want runc's CheckpointOptions)"));
}

Result<ShimConfig> shim_config_for(const RuntimeOptions& options) {
  auto config = load_shim_config(options.config_path);
  SHIM_TRY(config);
  if (!options.binary_name.empty()) config->binary_name = options.binary_name;
  if (!options.root.empty()) config->root = options.root;
  if (options.systemd_cgroup) {
    std::erase_if(config->runsc_flags,
                  [](const auto& flag) { return flag.first == "systemd-cgroup"; });
    config->runsc_flags.emplace_back("systemd-cgroup", "true");
    std::sort(config->runsc_flags.begin(), config->runsc_flags.end());
  }
  return config;
}

}  // namespace shim
