// Reading and writing cgroup files: one number, "key value" lines, and writes whose kernel
// refusals (EBUSY for a limit below usage, EINVAL for limit > memsw) name the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"

namespace shim::cgroups {

using KeyedValues = std::vector<std::pair<std::string, uint64_t>>;

// A file holding one unsigned number; the word "max" reads as `max_value`.
Result<uint64_t> read_u64(const std::string& path, uint64_t max_value = UINT64_MAX);
// Reads `path` if it can, else 0: for optional fields that older kernels lack.
uint64_t read_u64_or_zero(const std::string& path, uint64_t max_value = UINT64_MAX);
// "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control); lines that do
// not parse are skipped.
Result<KeyedValues> read_keyed(const std::string& path);
KeyedValues parse_keyed(std::string_view text);
uint64_t lookup(const KeyedValues& values, std::string_view key);

// Space-separated numbers (cpuacct.usage_percpu).
std::vector<uint64_t> parse_u64_list(std::string_view text);

// Writes `value` with one write(2), as the kernel wants. Errors say what, where and why:
// "write 1024 to <dir>/memory.limit_in_bytes: Device or resource busy".
Result<void> write_value(const std::string& path, std::string_view value);

// Names of `dir`'s entries matching "<prefix><middle><suffix>" where middle has no '.',
// returning the middles: hugetlb.<2MB>.current, but not hugetlb.2MB.rsvd.current.
std::vector<std::string> list_middles(const std::string& dir, std::string_view prefix,
                                      std::string_view suffix);

}  // namespace shim::cgroups
