// The life of a process (a container's init or an exec) as one explicit table: a request
// that is illegal in the current state becomes FailedPrecondition, never a crash.
#pragma once

#include <string_view>

#include "base/error.h"

namespace shim {

enum class ProcessState { kCreated, kRunning, kPaused, kStopped, kDeleted };
enum class ProcessEvent { kStart, kPause, kResume, kExit, kDelete };

std::string_view state_name(ProcessState state);
std::string_view event_name(ProcessEvent event);

// The state after `event`, or FailedPrecondition ("cannot pause a stopped process").
Result<ProcessState> next_state(ProcessState state, ProcessEvent event);

}  // namespace shim
