#include "base/capability_names.h"

#include <algorithm>
#include <array>

namespace shim {
namespace {

constexpr std::array<std::string_view, kCapabilityNameCount> kNames = {"CAP_CHOWN",
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

}  // namespace

std::string_view capability_name(int number) {
  return number >= 0 && number < kCapabilityNameCount ? kNames[static_cast<size_t>(number)] : "";
}

int capability_number(std::string_view name) {
  auto it = std::find(kNames.begin(), kNames.end(), name);
  return it == kNames.end() ? -1 : static_cast<int>(it - kNames.begin());
}

}  // namespace shim
