#include "process/state_machine.h"

#include <optional>

#include "base/strings.h"

namespace shim {
namespace {

using S = ProcessState;
using E = ProcessEvent;

// One row per state; nullopt marks an illegal event. Exit is legal from every live state:
// a sandbox can die at any moment, even before Start (killed from outside).
std::optional<S> transition(S state, E event) {
  switch (state) {
    case S::kCreated:
      switch (event) {
        case E::kStart:
          return S::kRunning;
        case E::kExit:
          return S::kStopped;
        case E::kDelete:
          return S::kDeleted;
        default:
          return std::nullopt;
      }
    case S::kRunning:
      switch (event) {
        case E::kPause:
          return S::kPaused;
        case E::kExit:
          return S::kStopped;
        default:
          return std::nullopt;
      }
    case S::kPaused:
      switch (event) {
        case E::kResume:
          return S::kRunning;
        case E::kExit:
          return S::kStopped;
        default:
          return std::nullopt;
      }
    case S::kStopped:
      switch (event) {
        case E::kDelete:
          return S::kDeleted;
        default:
          return std::nullopt;
      }
    case S::kDeleted:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::string_view state_name(ProcessState state) {
  switch (state) {
    case S::kCreated:
      return "created";
    case S::kRunning:
      return "running";
    case S::kPaused:
      return "paused";
    case S::kStopped:
      return "stopped";
    case S::kDeleted:
      return "deleted";
  }
  return "unknown";
}

std::string_view event_name(ProcessEvent event) {
  switch (event) {
    case E::kStart:
      return "start";
    case E::kPause:
      return "pause";
    case E::kResume:
      return "resume";
    case E::kExit:
      return "exit";
    case E::kDelete:
      return "delete";
  }
  return "unknown";
}

Result<ProcessState> next_state(ProcessState state, ProcessEvent event) {
  if (auto next = transition(state, event)) return *next;
  return Error(Code::kFailedPrecondition,
               str_cat("cannot ", event_name(event), " a ", state_name(state), " process"));
}

}  // namespace shim
