// What the shim reads from a bundle's config.json: the CRI annotations that say whether a
// container is a pod's sandbox or an app container joining one.
#pragma once

#include <string>

#include "base/error.h"

namespace shim {

struct BundleSpec {
  std::string container_type;  // io.kubernetes.cri.container-type: "sandbox", "container" or ""
  std::string sandbox_id;      // io.kubernetes.cri.sandbox-id

  // An app container runs inside its pod's existing sandbox; anything else (including every
  // container under plain ctr, which sets no annotation) is a sandbox of its own.
  bool joins_sandbox(const std::string& id) const {
    return container_type == "container" && !sandbox_id.empty() && sandbox_id != id;
  }
};

Result<BundleSpec> read_bundle_spec(const std::string& bundle);

}  // namespace shim
