// toml++ is slow to compile and only used here, so it stays out of every header.
#define TOML_EXCEPTIONS 0
#include "runsc/config.h"

#include <toml++/toml.h>

#include <charconv>

#include "base/file.h"
#include "base/strings.h"

namespace shim {
namespace {

Error invalid(std::string_view source, std::string_view what) {
  return Error(Code::kInvalidArgument, str_cat("shim config ", source, ": ", what));
}

// runsc flags are text; TOML lets users write `debug = true` or `num-network-channels = 4`.
Result<std::string> flag_text(const toml::node& node, std::string_view source,
                              std::string_view key) {
  if (auto s = node.value<std::string>(); s && node.is_string()) return *s;
  if (node.is_boolean()) return std::string(*node.value<bool>() ? "true" : "false");
  if (node.is_integer()) return str_cat(*node.value<int64_t>());
  if (node.is_floating_point()) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *node.value<double>());
    return std::string(buf, end);
  }
  return invalid(source, str_cat("runsc_config.", key, ": want a string, boolean or number"));
}

Result<std::string> string_key(const toml::table& table, std::string_view key,
                               std::string_view source, std::string fallback) {
  const toml::node* node = table.get(key);
  if (!node) return fallback;
  auto s = node->value<std::string>();
  if (!node->is_string() || s->empty()) {
    return invalid(source, str_cat(key, ": want a non-empty string"));
  }
  return *s;
}

}  // namespace

Result<ShimConfig> parse_shim_config(std::string_view text, std::string_view source) {
  toml::parse_result parsed = toml::parse(text, source);
  if (!parsed) {
    const toml::parse_error& err = parsed.error();
    return invalid(source, str_cat(err.description(), " at line ", err.source().begin.line,
                                   " column ", err.source().begin.column));
  }
  const toml::table& table = parsed.table();
  ShimConfig config;
  auto binary = string_key(table, "binary_name", source, config.binary_name);
  SHIM_TRY(binary);
  config.binary_name = std::move(*binary);
  auto root = string_key(table, "root", source, config.root);
  SHIM_TRY(root);
  config.root = std::move(*root);

  if (const toml::node* direct = table.get("direct_exec")) {
    if (!direct->is_boolean()) return invalid(source, "direct_exec: want true or false");
    config.direct_exec = *direct->value<bool>();
  }

  // Other top-level keys (the Go shim's log_level, ...) are not ours: ignored on purpose.
  if (const toml::node* flags = table.get("runsc_config")) {
    const toml::table* flag_table = flags->as_table();
    if (!flag_table) return invalid(source, "runsc_config: want a table");
    for (const auto& [key, value] : *flag_table) {
      auto text_value = flag_text(value, source, key.str());
      SHIM_TRY(text_value);
      config.runsc_flags.emplace_back(std::string(key.str()), std::move(*text_value));
    }
  }
  return config;
}

Result<ShimConfig> load_shim_config(const std::string& path) {
  const bool is_default = path.empty();
  const std::string file = is_default ? std::string(kDefaultShimConfigPath) : path;
  auto text = read_file(file);
  if (!text) {
    if (is_default && text.error().code() == Code::kNotFound) return ShimConfig{};
    return std::move(text).error().wrap("shim config");
  }
  return parse_shim_config(*text, file);
}

}  // namespace shim
