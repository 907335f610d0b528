// Small file helpers with errors as values.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace shim {

Result<std::string> read_file(const std::string& path);
// Writes to a temporary file beside `path`, then renames, so readers never see half a file.
Result<void> write_file_atomic(const std::string& path, std::string_view data, int mode = 0644);
bool path_exists(const std::string& path);
// mkdir -p: every missing level gets `mode`; an existing directory is fine.
Result<void> make_dirs(const std::string& path, int mode);
// Writes all of `data` to a blocking fd, retrying on EINTR and short writes.
Result<void> write_all(int fd, std::string_view data);

}  // namespace shim
