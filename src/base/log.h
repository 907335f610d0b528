// The shim's log: logfmt lines ("time=... level=... msg=...") written without blocking to one
// fd. In the daemon that fd is the bundle's `log` fifo, which containerd copies into its own log.
#pragma once

#include <string>
#include <string_view>

#include "base/strings.h"

namespace shim::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// Where lines go (default stderr) and the lowest level written. Not owned.
void set_output(int fd);
void set_level(Level level);
bool enabled(Level level);
void write(Level level, std::string_view message);

template <class... Args>
void debug(const Args&... args) {
  if (enabled(Level::kDebug)) write(Level::kDebug, str_cat(args...));
}
template <class... Args>
void info(const Args&... args) {
  if (enabled(Level::kInfo)) write(Level::kInfo, str_cat(args...));
}
template <class... Args>
void warn(const Args&... args) {
  if (enabled(Level::kWarn)) write(Level::kWarn, str_cat(args...));
}
template <class... Args>
void error(const Args&... args) {
  if (enabled(Level::kError)) write(Level::kError, str_cat(args...));
}

}  // namespace shim::log
