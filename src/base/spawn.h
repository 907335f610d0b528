// Starting a child without a shell: argv as given, chosen stdio, every other fd closed by
// CLOEXEC, and the shim's blocked/ignored signals reset to defaults in the child.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace shim {

struct SpawnOptions {
  std::vector<std::string> argv;                // argv[0] is looked up in PATH
  std::optional<std::vector<std::string>> env;  // nullopt: inherit
  int stdin_fd = -1;                            // -1: /dev/null
  int stdout_fd = -1;
  int stderr_fd = -1;
  // Further fds for the child: {fd in the shim, fd number in the child} (binary:// loggers
  // get their pipes as 3, 4 and 5).
  std::vector<std::pair<int, int>> extra_fds;
  std::string cwd;  // empty: inherit
  bool new_session = false;
};

Result<pid_t> spawn_process(const SpawnOptions& options);

// "a b c" for logs and error messages.
std::string join_argv(const std::vector<std::string>& argv);

}  // namespace shim
