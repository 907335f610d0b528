// String building without iostreams or a formatting library (both cost memory per shim).
#pragma once

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace shim {

namespace detail {
inline void append_one(std::string& out, std::string_view s) { out.append(s); }
inline void append_one(std::string& out, const char* s) { out.append(s ? s : "(null)"); }
inline void append_one(std::string& out, const std::string& s) { out.append(s); }
inline void append_one(std::string& out, char c) { out.push_back(c); }
inline void append_one(std::string& out, bool b) { out.append(b ? "true" : "false"); }
template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>)
void append_one(std::string& out, T v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}
template <class T>
  requires std::is_enum_v<T>
void append_one(std::string& out, T v) {
  append_one(out, static_cast<std::underlying_type_t<T>>(v));
}
}  // namespace detail

template <class... Args>
void str_append(std::string& out, const Args&... args) {
  (detail::append_one(out, args), ...);
}

template <class... Args>
std::string str_cat(const Args&... args) {
  std::string out;
  str_append(out, args...);
  return out;
}

std::vector<std::string_view> split(std::string_view s, char sep);
std::string_view trim(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);

// Parses a whole decimal string; false on any junk or overflow.
template <class T>
bool parse_int(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace shim
