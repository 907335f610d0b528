// Linux capability names and their numbers (include/uapi/linux/capability.h), CAP_CHOWN 0 to
// CAP_CHECKPOINT_RESTORE 40: OCI specs name them, runsc's control API takes bits.
#pragma once

#include <string_view>

namespace shim {

inline constexpr int kCapabilityNameCount = 41;

// The capability's number, or -1 for a name this table does not have.
int capability_number(std::string_view name);
// The name of capability `number` (0 .. kCapabilityNameCount - 1), else "".
std::string_view capability_name(int number);

}  // namespace shim
