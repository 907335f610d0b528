// The command line containerd uses for a shim, parsed the way Go's flag package does:
// `-name value`, `--name value`, `-name=value`, boolean `-debug`, then the action.
#pragma once

#include <string>

#include "base/error.h"

namespace shim {

struct ShimFlags {
  std::string ns;              // -namespace
  std::string address;         // -address: containerd's grpc socket
  std::string publish_binary;  // -publish-binary
  std::string id;              // -id
  std::string bundle;          // -bundle (delete); start uses the working directory
  std::string socket;          // -socket (newer containerd passes it; unused by 1.6)
  bool debug = false;          // -debug
  bool version = false;        // -v
  std::string action;          // start | delete | empty (daemon)
};

Result<ShimFlags> parse_flags(int argc, const char* const* argv);

}  // namespace shim
