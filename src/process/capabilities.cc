#include "process/capabilities.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <string_view>

#include "base/capability_names.h"

namespace shim {
namespace {

constexpr std::array<std::string_view, 5> kSets = {"bounding", "effective", "inheritable",
                                                   "permitted", "ambient"};

const nlohmann::json* capability_sets(const nlohmann::json& process) {
  if (!process.is_object()) return nullptr;
  auto caps = process.find("capabilities");
  if (caps == process.end() || !caps->is_object()) return nullptr;
  return &*caps;
}

int number_of(const nlohmann::json& entry) {
  return entry.is_string() ? capability_number(entry.get<std::string>()) : -1;
}

}  // namespace

bool names_capabilities_from(const nlohmann::json& process, int known_count) {
  const nlohmann::json* caps = capability_sets(process);
  if (caps == nullptr) return false;
  for (std::string_view set : kSets) {
    auto list = caps->find(set);
    if (list == caps->end() || !list->is_array()) continue;
    for (const auto& entry : *list) {
      if (number_of(entry) >= known_count) return true;
    }
  }
  return false;
}

std::vector<std::string> drop_unknown_granted_capabilities(nlohmann::json& process, int known_count,
                                                           uint64_t granted) {
  std::vector<std::string> dropped;
  if (capability_sets(process) == nullptr) return dropped;
  nlohmann::json& caps = process["capabilities"];
  auto bounding = caps.find("bounding");
  if (bounding == caps.end() || !bounding->is_array()) return dropped;
  uint64_t asked = 0;
  for (const auto& entry : *bounding) {
    if (int n = number_of(entry); n >= 0) asked |= uint64_t{1} << n;
  }
  constexpr uint64_t kNamed = (uint64_t{1} << kCapabilityNameCount) - 1;
  if (granted == 0 || asked != (granted & kNamed)) return dropped;

  for (std::string_view set : kSets) {
    auto list = caps.find(set);
    if (list == caps.end() || !list->is_array()) continue;
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& entry : *list) {
      if (number_of(entry) >= known_count) {
        std::string name = entry.get<std::string>();
        if (std::find(dropped.begin(), dropped.end(), name) == dropped.end()) {
          dropped.push_back(name);
        }
      } else {
        kept.push_back(entry);
      }
    }
    *list = std::move(kept);
  }
  return dropped;
}

uint64_t own_effective_capabilities() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!line.starts_with("CapEff:")) continue;
    uint64_t value = 0;
    std::string_view hex = std::string_view(line).substr(7);
    while (!hex.empty() && (hex.front() == ' ' || hex.front() == '\t')) hex.remove_prefix(1);
    auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
    return ec == std::errc() ? value : 0;
  }
  return 0;
}

}  // namespace shim
