// What the shim reads from a bundle's config.json: the CRI annotations that say whether a
// container is a pod's sandbox or an app container joining one, and the whole document for the
// checks made before runsc sees it (the binary exists, the capabilities are known).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/error.h"

namespace shim {

struct BundleSpec {
  std::string container_type;  // io.kubernetes.cri.container-type: "sandbox", "container" or ""
  std::string sandbox_id;      // io.kubernetes.cri.sandbox-id
  nlohmann::json document;     // config.json as parsed

  // An app container runs inside its pod's existing sandbox; anything else (including every
  // container under plain ctr, which sets no annotation) is a sandbox of its own.
  bool joins_sandbox(const std::string& id) const {
    return container_type == "container" && !sandbox_id.empty() && sandbox_id != id;
  }
};

Result<BundleSpec> read_bundle_spec(const std::string& bundle);
// object[key] when it is a string, else "" (also when `object` is not an object).
std::string string_field(const nlohmann::json& object, const char* key);
// Replaces config.json (atomically) with `document`.
Result<void> write_bundle_spec(const std::string& bundle, const nlohmann::json& document);

}  // namespace shim
