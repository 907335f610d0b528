#include "process/ids.h"

#include "base/strings.h"

namespace shim {

Result<void> validate_id(std::string_view id, std::string_view what) {
  constexpr size_t kMaxLength = 128;
  auto bad = [&](std::string_view why) {
    return Error(Code::kInvalidArgument, str_cat("invalid ", what, ": ", why));
  };
  if (id.empty()) return bad("empty");
  if (id.size() > kMaxLength) return bad(str_cat("longer than ", kMaxLength, " bytes"));
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(id[0])) return bad("must start with a letter or digit");
  for (char c : id) {
    if (!alnum(c) && c != '_' && c != '.' && c != '-') {
      return bad("only letters, digits, '_', '.' and '-' are allowed");
    }
  }
  return ok();
}

}  // namespace shim
