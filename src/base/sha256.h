// SHA-256 (FIPS 180-4), needed only to name the shim's socket as containerd does.
#pragma once

#include <string>
#include <string_view>

namespace shim {

// Lower-case hex digest of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace shim
