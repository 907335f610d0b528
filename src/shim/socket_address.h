// Where a shim listens: containerd 1.6 names it /run/containerd/s/<sha256 of address/ns/id>.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "base/unique_fd.h"

namespace shim {

inline constexpr std::string_view kSocketDir = "/run/containerd/s";

// Lexical path cleaning as Go's filepath.Clean does it (containerd hashes a cleaned path).
std::string clean_path(std::string_view path);
// "unix:///run/containerd/s/<hex>".
std::string socket_address(std::string_view grpc_address, std::string_view ns, std::string_view id);
// Strips "unix://".
std::string socket_path(std::string_view address);

// True when something accepts connections at `path`.
bool socket_is_live(const std::string& path);
// Binds and listens at `path` with mode 0600 (creating the directory), replacing a stale one.
Result<UniqueFd> listen_unix(const std::string& path);
// Blocking connect with no timeout (the peer is local).
Result<UniqueFd> connect_unix(const std::string& path);

}  // namespace shim
