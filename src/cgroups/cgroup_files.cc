#include "cgroups/cgroup_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/file.h"
#include "base/strings.h"
#include "base/unique_fd.h"

namespace shim::cgroups {

Result<uint64_t> read_u64(const std::string& path, uint64_t max_value) {
  auto text = read_file(path);
  if (!text) return std::move(text).error();
  std::string_view v = trim(*text);
  if (v == "max") return max_value;
  uint64_t out = 0;
  if (!parse_int(v, out)) {
    // v1 spells "unlimited" as -1 in some files (cpu.cfs_quota_us).
    int64_t signed_value = 0;
    if (parse_int(v, signed_value) && signed_value < 0) return max_value;
    return Error(Code::kInternal, str_cat("parse ", path, ": not a number: \"", v, "\""));
  }
  return out;
}

uint64_t read_u64_or_zero(const std::string& path, uint64_t max_value) {
  auto v = read_u64(path, max_value);
  return v ? *v : 0;
}

KeyedValues parse_keyed(std::string_view text) {
  KeyedValues out;
  for (std::string_view line : split(text, '\n')) {
    line = trim(line);
    size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    uint64_t value = 0;
    if (!parse_int(trim(line.substr(space + 1)), value)) continue;
    out.emplace_back(std::string(line.substr(0, space)), value);
  }
  return out;
}

Result<KeyedValues> read_keyed(const std::string& path) {
  auto text = read_file(path);
  if (!text) return std::move(text).error();
  return parse_keyed(*text);
}

uint64_t lookup(const KeyedValues& values, std::string_view key) {
  for (const auto& [k, v] : values) {
    if (k == key) return v;
  }
  return 0;
}

std::vector<uint64_t> parse_u64_list(std::string_view text) {
  std::vector<uint64_t> out;
  for (std::string_view word : split(trim(text), ' ')) {
    uint64_t v = 0;
    if (parse_int(trim(word), v)) out.push_back(v);
  }
  return out;
}

Result<void> write_value(const std::string& path, std::string_view value) {
  auto fail = [&](int err) {
    Error e = errno_error(str_cat("write ", value, " to ", path), err);
    // The kernel refusing a value (a limit below usage, limit above memsw) is a precondition of
    // the cgroup's current state, not an internal fault.
    if (err == EBUSY || err == EINVAL) return Error(Code::kFailedPrecondition, e.message());
    return e;
  };
  // O_TRUNC does nothing to a cgroup file but lets a fake tree of plain files be rewritten.
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (!fd) return fail(errno);
  ssize_t n;
  do {
    n = ::write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail(errno);
  if (static_cast<size_t>(n) != value.size()) return fail(EIO);
  return ok();
}

std::vector<std::string> list_middles(const std::string& dir, std::string_view prefix,
                                      std::string_view suffix) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (struct dirent* entry = ::readdir(d)) {
    std::string_view name = entry->d_name;
    if (name.size() <= prefix.size() + suffix.size() || !starts_with(name, prefix) ||
        name.substr(name.size() - suffix.size()) != suffix) {
      continue;
    }
    std::string_view middle =
        name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    if (middle.find('.') == std::string_view::npos) out.emplace_back(middle);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace shim::cgroups
