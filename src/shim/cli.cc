#include "shim/cli.h"

#include <cstdio>

#include "shim/delete_command.h"
#include "shim/flags.h"
#include "shim/start_command.h"
#include "shim/version.h"

namespace shim {

int run_cli(int argc, char** argv) {
  auto flags = parse_flags(argc, argv);
  if (!flags) {
    std::fprintf(stderr, "containerd-shim-runsc-v1: %s\n", flags.error().message().c_str());
    return 2;
  }
  if (flags->version) {
    std::printf("containerd-shim-runsc-v1:\n  Version: %s\n  Revision: %s\n", kShimVersion,
                kShimRevision);
    return 0;
  }
  if (flags->action == "start") return run_start_command(*flags);
  if (flags->action == "delete") return run_delete_command(*flags);
  std::fprintf(stderr, "containerd-shim-runsc-v1: unknown action \"%s\" (want start or delete)\n",
               flags->action.c_str());
  return 2;
}

}  // namespace shim
