#include "base/log.h"

#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>

namespace shim::log {
namespace {

int g_fd = STDERR_FILENO;
Level g_level = Level::kInfo;

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warning";
    case Level::kError: return "error";
  }
  return "info";
}

// logfmt quoting: the message is always quoted, with " and \ and newlines escaped.
void append_quoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      default: out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace

void set_output(int fd) { g_fd = fd; }
void set_level(Level level) { g_level = level; }
bool enabled(Level level) { return level >= g_level && g_fd >= 0; }

void write(Level level, std::string_view message) {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  tm utc{};
  gmtime_r(&now.tv_sec, &utc);
  char stamp[96];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                now.tv_nsec / 1000);
  std::string line;
  line.reserve(64 + message.size());
  str_append(line, "time=\"", stamp, "\" level=", level_name(level), " msg=");
  append_quoted(line, message);
  line.push_back('\n');
  // One write per line so lines never interleave; a full fifo drops the line rather than
  // stalling the reactor.
  ssize_t ignored = ::write(g_fd, line.data(), line.size());
  (void)ignored;
}

}  // namespace shim::log
