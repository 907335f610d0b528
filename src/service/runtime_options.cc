#include "service/runtime_options.h"

#include "base/strings.h"
#include "github.com/containerd/containerd/pkg/runtimeoptions/v1/api.pb.h"

namespace shim {

Result<std::string> config_path_from_options(
    const std::optional<pb::google::protobuf::Any>& options) {
  if (!options || options->value.empty()) return std::string();
  const std::string& type = options->type_url;
  bool ours = type.empty() || type.ends_with("runtimeoptions.v1.Options");
  if (!ours) {
    return Error(Code::kInvalidArgument, str_cat("unsupported runtime options type \"", type,
                                                 "\" (want runtimeoptions.v1.Options)"));
  }
  pb::runtimeoptions::v1::Options decoded;
  if (!decoded.decode(options->value)) {
    return Error(Code::kInvalidArgument, "malformed runtimeoptions.v1.Options");
  }
  return decoded.config_path;
}

}  // namespace shim
