#include "cgroups/resources.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

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

namespace {

// A sum over containers of an optional limit: unset if nobody set it, unlimited if anybody
// left it unlimited (or unset while others set it), else the total.
template <typename T>
std::optional<T> total_limit(const std::vector<Resources>& containers,
                             std::optional<T> (*field)(const Resources&)) {
  bool any = false, unlimited = false;
  T sum = 0;
  for (const auto& r : containers) {
    auto v = field(r);
    if (!v || *v == static_cast<T>(kUnlimited)) {
      unlimited = true;
      continue;
    }
    any = true;
    sum += *v;
  }
  if (!any) return std::nullopt;
  return unlimited ? static_cast<T>(kUnlimited) : sum;
}

// "0-2,5" and the like, as a set of numbers; false for text that is not such a list.
bool parse_cpu_list(std::string_view text, std::set<int>& out) {
  for (std::string_view part : split(text, ',')) {
    part = trim(part);
    if (part.empty()) continue;
    size_t dash = part.find('-');
    int first = 0, last = 0;
    if (!parse_int(part.substr(0, dash), first)) return false;
    last = first;
    if (dash != std::string_view::npos && !parse_int(part.substr(dash + 1), last)) return false;
    if (first < 0 || last < first || last - first > 4096) return false;
    for (int i = first; i <= last; ++i) out.insert(i);
  }
  return true;
}

std::string format_cpu_list(const std::set<int>& cpus) {
  std::string out;
  for (auto it = cpus.begin(); it != cpus.end();) {
    int first = *it, last = first;
    for (++it; it != cpus.end() && *it == last + 1; ++it) last = *it;
    if (!out.empty()) out.push_back(',');
    out += first == last ? std::to_string(first) : str_cat(first, "-", last);
  }
  return out;
}

// The union of every container's list, or "" (unchanged) unless every one names a list.
std::string joined_cpu_lists(const std::vector<Resources>& containers,
                             const std::string& (*field)(const Resources&)) {
  std::set<int> all;
  for (const auto& r : containers) {
    if (field(r).empty() || !parse_cpu_list(field(r), all)) return {};
  }
  return format_cpu_list(all);
}

}  // namespace

void merge_into(Resources& kept, const Resources& update) {
  auto take = [](auto& to, const auto& from) {
    if (from) to = from;
  };
  take(kept.memory.limit, update.memory.limit);
  take(kept.memory.reservation, update.memory.reservation);
  take(kept.memory.swap, update.memory.swap);
  take(kept.cpu.shares, update.cpu.shares);
  take(kept.cpu.quota, update.cpu.quota);
  take(kept.cpu.period, update.cpu.period);
  if (!update.cpu.cpus.empty()) kept.cpu.cpus = update.cpu.cpus;
  if (!update.cpu.mems.empty()) kept.cpu.mems = update.cpu.mems;
  take(kept.pids_limit, update.pids_limit);
}

Resources pod_total(const std::vector<Resources>& containers) {
  Resources total;
  if (containers.empty()) return total;
  total.memory.limit =
      total_limit<int64_t>(containers, [](const Resources& r) { return r.memory.limit; });
  total.memory.reservation =
      total_limit<int64_t>(containers, [](const Resources& r) { return r.memory.reservation; });
  total.memory.swap =
      total_limit<int64_t>(containers, [](const Resources& r) { return r.memory.swap; });
  total.pids_limit =
      total_limit<int64_t>(containers, [](const Resources& r) { return r.pids_limit; });

  // Shares are weights, not limits: the asked-for ones add up; nobody asking leaves them.
  uint64_t shares = 0;
  for (const auto& r : containers) shares += r.cpu.shares.value_or(0);
  if (shares > 0) total.cpu.shares = std::min<uint64_t>(shares, 262144);

  // Quotas: CPUs' worth each (quota / period), summed and expressed over the longest period.
  bool any_quota = false, unlimited_quota = false;
  uint64_t period = 0;
  for (const auto& r : containers) {
    if (r.cpu.quota && *r.cpu.quota != kUnlimited) {
      any_quota = true;
      period = std::max<uint64_t>(period, r.cpu.period.value_or(100000));
    } else {
      unlimited_quota = true;
    }
  }
  if (any_quota && unlimited_quota) {
    total.cpu.quota = kUnlimited;
  } else if (any_quota) {
    double cpus = 0;
    for (const auto& r : containers) {
      cpus +=
          static_cast<double>(*r.cpu.quota) / static_cast<double>(r.cpu.period.value_or(100000));
    }
    total.cpu.period = period;
    total.cpu.quota = static_cast<int64_t>(cpus * static_cast<double>(period) + 0.5);
  }
  total.cpu.cpus = joined_cpu_lists(
      containers, [](const Resources& r) -> const std::string& { return r.cpu.cpus; });
  total.cpu.mems = joined_cpu_lists(
      containers, [](const Resources& r) -> const std::string& { return r.cpu.mems; });
  return total;
}

}  // namespace shim::cgroups
