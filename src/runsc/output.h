// Reading what runsc says: its JSON answers (state, ps) and its log.json, whose last error
// line is the message a user needs when a call fails.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace shim {

struct RunscState {
  std::string id;
  pid_t pid = 0;       // -1 once stopped
  std::string status;  // created | running | paused | stopped
  std::string bundle;
};

Result<RunscState> parse_runsc_state(std::string_view json);
// `runsc ps --format json` prints a bare array of pids, e.g. `[1,7]`.
Result<std::vector<pid_t>> parse_runsc_ps(std::string_view json);

// The `msg` of the last `"level":"error"` object in log.json text, or "" if none. This
// runsc writes its objects back to back with no newline between them, so objects are found
// by brace matching rather than by lines; junk and a torn object at either end are skipped.
std::string last_error_message(std::string_view log_json);

// The first complete top-level {...} in `text` (braces inside strings do not count), or ""
// while none has fully arrived.
std::string_view first_json_object(std::string_view text);

// The errdefs code for a runsc error message: NotFound for "... does not exist", AlreadyExists,
// FailedPrecondition for a wrong state ("in state stopped", "not stopped"), else Unknown.
Code classify_runsc_error(std::string_view message);

}  // namespace shim
