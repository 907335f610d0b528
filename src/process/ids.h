// Ids from containerd end up in paths and runsc arguments: they are checked before any use.
#pragma once

#include <string_view>

#include "base/error.h"

namespace shim {

// Letters, digits, '_', '.', '-'; starts with a letter or digit; at most 128 bytes.
// `what` names the field in the error ("container id").
Result<void> validate_id(std::string_view id, std::string_view what);

}  // namespace shim
