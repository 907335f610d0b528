// Which shim TOML a container uses: runtimeoptions.v1.Options.config_path, sent by the CRI
// plugin (type URL runtimeoptions.v1.Options) and by `ctr --runtime-config-path` (no type URL).
#pragma once

#include <optional>
#include <string>

#include "base/error.h"
#include "google/protobuf/any.pb.h"

namespace shim {

// The config path, empty when containerd sent no options (then the default path applies).
Result<std::string> config_path_from_options(
    const std::optional<pb::google::protobuf::Any>& options);

}  // namespace shim
