#include "shim/flags.h"

#include <string_view>

#include "base/strings.h"

namespace shim {

Result<ShimFlags> parse_flags(int argc, const char* const* argv) {
  ShimFlags flags;
  int i = 1;
  for (; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.size() < 2 || arg[0] != '-') break;  // first non-flag: the action
    if (arg == "--") {
      ++i;
      break;
    }
    arg.remove_prefix(arg.starts_with("--") ? 2 : 1);
    std::string_view name = arg, value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    if (name == "debug" || name == "v" || name == "version") {
      bool on = !has_value || value == "true" || value == "1";
      (name == "debug" ? flags.debug : flags.version) = on;
      continue;
    }
    std::string* target = nullptr;
    if (name == "namespace")
      target = &flags.ns;
    else if (name == "address")
      target = &flags.address;
    else if (name == "publish-binary")
      target = &flags.publish_binary;
    else if (name == "id")
      target = &flags.id;
    else if (name == "bundle")
      target = &flags.bundle;
    else if (name == "socket")
      target = &flags.socket;
    else
      return Error(Code::kInvalidArgument, str_cat("unknown flag -", name));
    if (!has_value) {
      if (i + 1 >= argc)
        return Error(Code::kInvalidArgument, str_cat("flag -", name, " needs a value"));
      value = argv[++i];
    }
    *target = std::string(value);
  }
  if (i < argc) flags.action = argv[i++];
  if (i < argc) return Error(Code::kInvalidArgument, str_cat("unexpected argument ", argv[i]));
  return flags;
}

}  // namespace shim
