// The shim's own TOML: which runsc binary to run, where its state lives, and the flags every
// runsc call gets (`[runsc_config] network = "none"` becomes `--network=none`).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"

namespace shim {

inline constexpr std::string_view kDefaultShimConfigPath = "/etc/containerd/runsc.toml";

struct ShimConfig {
  std::string binary_name = "runsc";
  std::string root = "/run/containerd/runsc";
  // Execs start through the sandbox's control socket (no runsc process per exec); false
  // (`direct_exec = false`) runs `runsc exec` for each, as before.
  bool direct_exec = true;
  // `[runsc_config]` as {key, value text}, sorted by key so argv is deterministic.
  std::vector<std::pair<std::string, std::string>> runsc_flags;
};

// Loads the file containerd names in runtimeoptions.v1.Options.config_path. An empty `path`
// means the default path, whose absence just gives the defaults; a named file must exist.
Result<ShimConfig> load_shim_config(const std::string& path);

// Parses TOML text; `source` names the file in error messages.
Result<ShimConfig> parse_shim_config(std::string_view text, std::string_view source);

}  // namespace shim
