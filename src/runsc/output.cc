#include "runsc/output.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace shim {
namespace {

using nlohmann::json;

// Calls `fn` with each top-level {...} in `text`, tracking strings so braces inside a
// message do not count.
template <class Fn>
void for_each_object(std::string_view text, Fn fn) {
  int depth = 0;
  bool in_string = false, escaped = false;
  size_t begin = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"' && depth > 0) {
      in_string = true;
    } else if (c == '{') {
      if (depth++ == 0) begin = i;
    } else if (c == '}' && depth > 0) {
      if (--depth == 0) fn(text.substr(begin, i - begin + 1));
    }
  }
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

}  // namespace

Result<RunscState> parse_runsc_state(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Error(Code::kInternal, str_cat("runsc state: output is not a JSON object: \"",
                                          text.substr(0, 200), "\""));
  }
  RunscState state;
  auto id = doc.find("id");
  auto pid = doc.find("pid");
  auto status = doc.find("status");
  if (id == doc.end() || !id->is_string() || pid == doc.end() || !pid->is_number_integer() ||
      status == doc.end() || !status->is_string()) {
    return Error(Code::kInternal, "runsc state: output lacks id, pid or status");
  }
  state.id = id->get<std::string>();
  state.pid = pid->get<pid_t>();
  state.status = status->get<std::string>();
  if (auto bundle = doc.find("bundle"); bundle != doc.end() && bundle->is_string()) {
    state.bundle = bundle->get<std::string>();
  }
  return state;
}

Result<std::vector<pid_t>> parse_runsc_ps(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_array()) {
    return Error(Code::kInternal,
                 str_cat("runsc ps: output is not a JSON array: \"", text.substr(0, 200), "\""));
  }
  std::vector<pid_t> pids;
  for (const json& item : doc) {
    if (!item.is_number_integer()) return Error(Code::kInternal, "runsc ps: non-integer pid");
    pids.push_back(item.get<pid_t>());
  }
  return pids;
}

std::string last_error_message(std::string_view log_json) {
  std::string last;
  for_each_object(log_json, [&last](std::string_view object) {
    json entry = json::parse(object, nullptr, /*allow_exceptions=*/false);
    if (entry.is_discarded() || !entry.is_object()) return;
    auto level = entry.find("level");
    auto msg = entry.find("msg");
    if (level == entry.end() || msg == entry.end() || !msg->is_string()) return;
    if (*level != "error") return;
    last = msg->get<std::string>();
  });
  return last;
}

std::string_view first_json_object(std::string_view text) {
  std::string_view first;
  for_each_object(text, [&first](std::string_view object) {
    if (first.empty()) first = object;
  });
  return first;
}

Code classify_runsc_error(std::string_view message) {
  // Wording measured with runsc 20221219: "loading container: file does not exist",
  // "cannot start container \"c1\" in state stopped", "cannot delete container that is not
  // stopped without --force flag", "... container already exists".
  if (contains(message, "does not exist")) return Code::kNotFound;
  if (contains(message, "already exists")) return Code::kAlreadyExists;
  if (contains(message, " in state ") || contains(message, "is not stopped") ||
      contains(message, "is not running") || contains(message, "is not paused") ||
      contains(message, "not stopped without --force")) {
    return Code::kFailedPrecondition;
  }
  return Code::kUnknown;
}

}  // namespace shim
