// What one of containerd's stdio strings names: nothing, a path (fifo or file), a file:// log
// or a binary:// logger. Parsing only; opening happens in endpoints.h.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace shim::io {

enum class StdioKind {
  kNull,    // "": the process gets /dev/null
  kPath,    // a plain path (or fifo://): a fifo the client opened, or an existing file
  kFile,    // file:///abs/path: append to that file, created if missing
  kBinary,  // binary:///path/to/logger?k=v: a logger that reads the output pipes itself
};

struct StdioUri {
  StdioKind kind = StdioKind::kNull;
  std::string path;               // decoded, absolute for kFile and kBinary
  std::vector<std::string> args;  // kBinary: key, value, key, value... in query order
};

Result<StdioUri> parse_stdio_uri(std::string_view text);

// %XX decoding; `plus_is_space` for query strings (as Go's url.ParseQuery does).
Result<std::string> percent_decode(std::string_view s, bool plus_is_space);

}  // namespace shim::io
