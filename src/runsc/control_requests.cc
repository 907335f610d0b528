#include "runsc/control_requests.h"

#include <array>
#include <cstdint>
#include <type_traits>

#include "base/capability_names.h"
#include "base/strings.h"
#include "runsc/control.h"

namespace shim {
namespace {

using nlohmann::json;

constexpr int kCapNetRaw = 13;

// One set of capability names as the bits auth.CapabilitySet is.
Result<uint64_t> capability_bits(const json& names, const ExecTarget& target) {
  uint64_t bits = 0;
  if (!names.is_array()) return bits;
  for (const auto& entry : names) {
    std::string name = entry.is_string() ? entry.get<std::string>() : std::string();
    int n = capability_number(name);
    // The sandbox stores bits it does not know without complaint (measured): refuse them
    // here, as `runsc exec` does ("unknown capability").
    if (n < 0 || n >= target.features.capability_count()) {
      return Error(Code::kInvalidArgument, str_cat("unknown capability \"", name, "\""));
    }
    // As runsc's own conversion: no raw sockets unless the sandbox has them.
    if (n == kCapNetRaw && !target.net_raw) continue;
    bits |= uint64_t{1} << n;
  }
  return bits;
}

// A JSON integer that is not negative (parsed text makes those unsigned, built values signed).
bool is_count(const json& value) {
  return value.is_number_unsigned() || (value.is_number_integer() && value.get<int64_t>() >= 0);
}

// Typed reads that never throw: a field of another type reads as absent.
json field(const json& object, const char* key) {
  auto it = object.is_object() ? object.find(key) : object.end();
  return it == object.end() ? json() : *it;
}
template <typename T>
T field_or(const json& object, const char* key, T fallback) {
  json value = field(object, key);
  if constexpr (std::is_same_v<T, bool>) {
    return value.is_boolean() ? value.get<bool>() : fallback;
  } else if constexpr (std::is_same_v<T, std::string>) {
    return value.is_string() ? value.get<std::string>() : fallback;
  } else {
    return is_count(value) ? value.get<T>() : fallback;
  }
}

Result<json> task_capabilities(const json& caps, const ExecTarget& target) {
  if (!caps.is_object()) return json();  // null: the sandbox's defaults for the user
  json out = json::object();
  // Ambient capabilities are not carried by the sandbox (it ignores the field).
  constexpr std::array<std::pair<const char*, const char*>, 4> kSets = {
      {{"permitted", "PermittedCaps"},
       {"inheritable", "InheritableCaps"},
       {"effective", "EffectiveCaps"},
       {"bounding", "BoundingCaps"}}};
  for (const auto& [oci, sentry] : kSets) {
    auto bits = capability_bits(field(caps, oci), target);
    SHIM_TRY(bits);
    out[sentry] = *bits;
  }
  out["AmbientCaps"] = 0;
  return out;
}

}  // namespace

Result<std::string> execute_async_request(const json& process, const ExecTarget& target) {
  if (!process.is_object()) return Error(Code::kInvalidArgument, "process spec is not an object");
  json args = field(process, "args");
  if (!args.is_array() || args.empty()) {
    return Error(Code::kInvalidArgument, "process spec has no args");
  }
  for (const auto& a : args) {
    if (!a.is_string()) return Error(Code::kInvalidArgument, "process args must be strings");
  }
  json env = field(process, "env");
  if (!env.is_array()) env = json::array();
  for (const auto& e : env) {
    if (!e.is_string()) return Error(Code::kInvalidArgument, "process env must be strings");
  }
  json user = field(process, "user");
  std::string cwd = field_or<std::string>(process, "cwd", "");
  json caps =
      process.contains("capabilities") ? process["capabilities"] : target.default_capabilities;
  auto capabilities = task_capabilities(caps, target);
  SHIM_TRY(capabilities);
  json gids = json::array();
  for (const auto& g : field(user, "additionalGids")) {
    if (is_count(g)) gids.push_back(g);
  }

  json arg = {
      {"filename", ""},  // the sandbox resolves argv[0] against the container's PATH
      {"argv", args},
      {"envv", env},
      {"wd", cwd.empty() ? target.default_cwd : cwd},
      {"KUID", field_or<uint32_t>(user, "uid", 0)},
      {"KGID", field_or<uint32_t>(user, "gid", 0)},
      {"ExtraKGIDs", std::move(gids)},
      {"Capabilities", std::move(*capabilities)},
      {"StdioIsPty", field_or<bool>(process, "terminal", false)},
      // 20240729 maps the fds it is sent onto these guest fds (and without them takes a lone
      // fd for the binary to run); 20221219 ignores the field and maps fd i to i.
      {"GuestFDs", {0, 1, 2}},
      {"ContainerID", target.container_id},
  };
  return control_request("containerManager.ExecuteAsync", arg);
}

Result<pid_t> parse_exec_pid(const json& result) {
  if (!result.is_number_integer() || result.get<int64_t>() <= 0) {
    return Error(Code::kInternal, str_cat("sandbox control: no pid in \"", result.dump(), "\""));
  }
  return static_cast<pid_t>(result.get<int64_t>());
}

std::string wait_pid_request(std::string_view container_id, pid_t pid) {
  return control_request("containerManager.WaitPID", {{"PID", pid}, {"CID", container_id}});
}

Result<ExitStatus> parse_wait_status(const json& result) {
  if (!is_count(result)) {
    return Error(Code::kInternal,
                 str_cat("sandbox control: no wait status in \"", result.dump(), "\""));
  }
  return ExitStatus::from_wait_status(static_cast<int>(result.get<int64_t>()));
}

std::string signal_request(std::string_view container_id, pid_t pid, int signal,
                           SignalTarget target) {
  return control_request(
      "containerManager.Signal",
      {{"CID", container_id}, {"Signo", signal}, {"PID", pid}, {"Mode", static_cast<int>(target)}});
}

std::string event_request(std::string_view container_id, const RunscFeatures& features) {
  return control_request("containerManager.Event",
                         features.event_per_container() ? json(container_id) : json());
}

Result<SandboxEvent> parse_event(const json& result) {
  json data = field(field(result, "event"), "data");
  if (!data.is_object()) {
    return Error(Code::kInternal,
                 str_cat("sandbox control: no stats in \"", result.dump().substr(0, 200), "\""));
  }
  auto number = [](const json& v) { return is_count(v) ? v.get<uint64_t>() : uint64_t{0}; };
  SandboxEvent out;
  out.memory_bytes = number(field(field(field(data, "memory"), "usage"), "usage"));
  out.cpu_ns = number(field(field(field(data, "cpu"), "usage"), "total"));
  out.pids = number(field(field(data, "pids"), "current"));
  json by_container = field(result, "containerUsage");
  if (by_container.is_object()) {
    for (const auto& [id, ns] : by_container.items()) out.cpu_ns_by_container[id] = number(ns);
  }
  return out;
}

std::string processes_request(std::string_view container_id) {
  return control_request("containerManager.Processes", container_id);
}

}  // namespace shim
