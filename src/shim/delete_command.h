// `delete`: containerd's cleanup after a shim that died or never answered. Removes the runsc
// sandbox, the rootfs mount and the socket; prints a DeleteResponse.
#pragma once

#include "shim/flags.h"

namespace shim {

int run_delete_command(const ShimFlags& flags);

}  // namespace shim
