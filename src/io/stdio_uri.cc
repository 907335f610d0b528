// Mirrors how containerd's Go shim reads these strings (url.Parse, then the scheme decides), so
// that a string ctr or the CRI plugin sends means the same thing here.
#include "io/stdio_uri.h"

#include <algorithm>
#include <cctype>

#include "base/strings.h"

namespace shim::io {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_scheme(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

Error invalid(std::string_view text, std::string_view why) {
  return Error(Code::kInvalidArgument, str_cat("stdio uri \"", text, "\": ", why));
}

// Query order is kept (Go's map order is random, so any order is faithful); like Go's
// url.Values.Get, only the first value of a repeated key counts.
Result<std::vector<std::string>> parse_query(std::string_view text, std::string_view query) {
  std::vector<std::string> args;
  for (std::string_view pair : split(query, '&')) {
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!key || !value) return invalid(text, "bad escape in query");
    bool seen = false;
    for (size_t i = 0; i < args.size(); i += 2) seen = seen || args[i] == *key;
    if (seen) continue;
    args.push_back(std::move(*key));
    args.push_back(std::move(*value));
  }
  return args;
}

}  // namespace

Result<std::string> percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return Error(Code::kInvalidArgument, "truncated %-escape");
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return Error(Code::kInvalidArgument, "bad %-escape");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<StdioUri> parse_stdio_uri(std::string_view text) {
  StdioUri uri;
  if (text.empty()) return uri;

  size_t colon = text.find(':');
  size_t slash = text.find('/');
  // A plain path: no scheme before the first slash ("/run/.../c1-stdout", "relative/x").
  if (colon == std::string_view::npos || (slash != std::string_view::npos && slash < colon) ||
      !is_scheme(text.substr(0, colon))) {
    uri.kind = StdioKind::kPath;
    uri.path = std::string(text);
    return uri;
  }

  std::string scheme(text.substr(0, colon));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view rest = text.substr(colon + 1);
  rest = rest.substr(0, std::min(rest.find('#'), rest.size()));
  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (starts_with(rest, "//")) {
    rest.remove_prefix(2);
    size_t end = std::min(rest.find('/'), rest.size());
    std::string_view host = rest.substr(0, end);
    if (!host.empty() && host != "localhost") return invalid(text, "a host is not supported");
    rest.remove_prefix(end);
  }
  auto path = percent_decode(rest, false);
  if (!path) return invalid(text, path.error().message());
  if (path->empty() || (*path)[0] != '/') return invalid(text, "path must be absolute");
  uri.path = std::move(*path);

  if (scheme == "fifo") {
    uri.kind = StdioKind::kPath;
  } else if (scheme == "file") {
    uri.kind = StdioKind::kFile;
  } else if (scheme == "binary") {
    uri.kind = StdioKind::kBinary;
    auto args = parse_query(text, query);
    if (!args) return std::move(args).error();
    uri.args = std::move(*args);
  } else {
    return invalid(text, str_cat("unknown scheme ", scheme));
  }
  return uri;
}

}  // namespace shim::io
