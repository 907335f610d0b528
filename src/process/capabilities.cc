#include "process/capabilities.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <string_view>

namespace shim {
namespace {

// Linux's numbering (include/uapi/linux/capability.h).
constexpr std::array<std::string_view, 41> kNames = {"CAP_CHOWN",
                                                     "CAP_DAC_OVERRIDE",
                                                     "CAP_DAC_READ_SEARCH",
                                                     "CAP_FOWNER",
                                                     "CAP_FSETID",
                                                     "CAP_KILL",
                                                     "CAP_SETGID",
                                                     "CAP_SETUID",
                                                     "CAP_SETPCAP",
                                                     "CAP_LINUX_IMMUTABLE",
                                                     "CAP_NET_BIND_SERVICE",
                                                     "CAP_NET_BROADCAST",
                                                     "CAP_NET_ADMIN",
                                                     "CAP_NET_RAW",
                                                     "CAP_IPC_LOCK",
                                                     "CAP_IPC_OWNER",
                                                     "CAP_SYS_MODULE",
                                                     "CAP_SYS_RAWIO",
                                                     "CAP_SYS_CHROOT",
                                                     "CAP_SYS_PTRACE",
                                                     "CAP_SYS_PACCT",
                                                     "CAP_SYS_ADMIN",
                                                     "CAP_SYS_BOOT",
                                                     "CAP_SYS_NICE",
                                                     "CAP_SYS_RESOURCE",
                                                     "CAP_SYS_TIME",
                                                     "CAP_SYS_TTY_CONFIG",
                                                     "CAP_MKNOD",
                                                     "CAP_LEASE",
                                                     "CAP_AUDIT_WRITE",
                                                     "CAP_AUDIT_CONTROL",
                                                     "CAP_SETFCAP",
                                                     "CAP_MAC_OVERRIDE",
                                                     "CAP_MAC_ADMIN",
                                                     "CAP_SYSLOG",
                                                     "CAP_WAKE_ALARM",
                                                     "CAP_BLOCK_SUSPEND",
                                                     "CAP_AUDIT_READ",
                                                     "CAP_PERFMON",
                                                     "CAP_BPF",
                                                     "CAP_CHECKPOINT_RESTORE"};

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

int capability_number(const std::string& name) {
  auto it = std::find(kNames.begin(), kNames.end(), name);
  return it == kNames.end() ? -1 : static_cast<int>(it - kNames.begin());
}

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
  constexpr uint64_t kNamed = (uint64_t{1} << kNames.size()) - 1;
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
