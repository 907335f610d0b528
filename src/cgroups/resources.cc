#include "cgroups/resources.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace shim::cgroups {
namespace {

using nlohmann::json;

Error invalid(std::string message) { return Error(Code::kInvalidArgument, std::move(message)); }
Error unsupported(std::string_view what) {
  return invalid(str_cat("updating ", what, " is not supported"));
}

// A signed field where 0 means unchanged and -1 unlimited; anything lower is a mistake.
Result<std::optional<int64_t>> signed_limit(const json& v, std::string_view name) {
  if (v.is_null()) return std::optional<int64_t>();
  if (!v.is_number_integer()) return invalid(str_cat(name, ": not an integer"));
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return invalid(str_cat(name, ": out of range"));
  }
  int64_t n = v.get<int64_t>();
  if (n < kUnlimited) return invalid(str_cat(name, ": negative value ", n));
  if (n == 0) return std::optional<int64_t>();
  return std::optional<int64_t>(n);
}

Result<std::optional<uint64_t>> unsigned_value(const json& v, std::string_view name) {
  if (v.is_null()) return std::optional<uint64_t>();
  if (!v.is_number_integer()) return invalid(str_cat(name, ": not an integer"));
  if (!v.is_number_unsigned()) return invalid(str_cat(name, ": negative value ", v.get<int64_t>()));
  uint64_t n = v.get<uint64_t>();
  if (n == 0) return std::optional<uint64_t>();
  return std::optional<uint64_t>(n);
}

// Fields a sandbox's cgroup cannot honour: refused only when they would change something.
bool is_set(const json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v != 0;
  if (v.is_array() || v.is_object() || v.is_string()) return !v.empty();
  return true;
}

Result<void> parse_memory(const json& m, Resources::Memory& out) {
  if (!m.is_object()) return invalid("memory: not an object");
  for (const auto& [key, v] : m.items()) {
    std::string name = str_cat("memory.", key);
    if (key == "limit" || key == "reservation" || key == "swap") {
      auto n = signed_limit(v, name);
      if (!n) return std::move(n).error();
      (key == "limit" ? out.limit : key == "reservation" ? out.reservation : out.swap) = *n;
    } else if (key == "checkBeforeUpdate") {
      // A hint for runc's own update path; nothing to apply.
    } else if (is_set(v)) {
      return unsupported(name);  // kernel, kernelTCP, swappiness, disableOOMKiller, ...
    }
  }
  return ok();
}

Result<void> parse_cpu(const json& c, Resources::Cpu& out) {
  if (!c.is_object()) return invalid("cpu: not an object");
  for (const auto& [key, v] : c.items()) {
    std::string name = str_cat("cpu.", key);
    if (key == "shares" || key == "period") {
      auto n = unsigned_value(v, name);
      if (!n) return std::move(n).error();
      (key == "shares" ? out.shares : out.period) = *n;
    } else if (key == "quota") {
      auto n = signed_limit(v, name);
      if (!n) return std::move(n).error();
      out.quota = *n;
    } else if (key == "cpus" || key == "mems") {
      if (v.is_null()) continue;
      if (!v.is_string()) return invalid(str_cat(name, ": not a string"));
      (key == "cpus" ? out.cpus : out.mems) = v.get<std::string>();
    } else if (is_set(v)) {
      return unsupported(name);  // realtimeRuntime, realtimePeriod, idle
    }
  }
  // The kernel clamps shares silently on v1; refusing keeps v1 and v2 alike.
  if (out.shares && (*out.shares < 2 || *out.shares > 262144)) {
    return invalid(str_cat("cpu.shares: ", *out.shares, " is outside [2, 262144]"));
  }
  return ok();
}

Result<void> parse_pids(const json& p, std::optional<int64_t>& out) {
  if (!p.is_object()) return invalid("pids: not an object");
  for (const auto& [key, v] : p.items()) {
    if (key != "limit") {
      if (is_set(v)) return unsupported(str_cat("pids.", key));
      continue;
    }
    auto n = signed_limit(v, "pids.limit");
    if (!n) return std::move(n).error();
    out = *n;
  }
  return ok();
}

}  // namespace

bool Resources::empty() const {
  return !memory.limit && !memory.reservation && !memory.swap && !cpu.shares && !cpu.quota &&
         !cpu.period && cpu.cpus.empty() && cpu.mems.empty() && !pids_limit;
}

Result<Resources> parse_linux_resources(std::string_view text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return invalid("LinuxResources: malformed JSON");
  if (!doc.is_object()) return invalid("LinuxResources: not a JSON object");
  Resources out;
  for (const auto& [key, v] : doc.items()) {
    if (v.is_null()) continue;
    if (key == "memory") {
      SHIM_TRY(parse_memory(v, out.memory));
    } else if (key == "cpu") {
      SHIM_TRY(parse_cpu(v, out.cpu));
    } else if (key == "pids") {
      SHIM_TRY(parse_pids(v, out.pids_limit));
    } else if (key == "devices") {
      // Ignored, as runc's update ignores it: CRI resends the spec's whole device list with
      // every update, and gVisor's sentry, not the host device cgroup, mediates devices.
    } else if (is_set(v)) {
      return unsupported(key);  // blockIO, hugepageLimits, network, rdma, unified
    }
  }
  return out;
}

uint64_t shares_to_weight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

}  // namespace shim::cgroups
