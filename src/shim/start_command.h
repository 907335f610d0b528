// `start`: what containerd runs to get a shim. Prints the socket address and returns; the
// daemon it leaves behind serves the Task API.
#pragma once

#include "shim/flags.h"

namespace shim {

int run_start_command(const ShimFlags& flags);

}  // namespace shim
