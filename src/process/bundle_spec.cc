#include "process/bundle_spec.h"

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/strings.h"

namespace shim {

Result<BundleSpec> read_bundle_spec(const std::string& bundle) {
  auto text = read_file(bundle + "/config.json");
  if (!text) return std::move(text).error();
  auto spec = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (spec.is_discarded() || !spec.is_object()) {
    return Error(Code::kInvalidArgument, str_cat("malformed ", bundle, "/config.json"));
  }
  BundleSpec out;
  auto annotations = spec.find("annotations");
  if (annotations != spec.end() && annotations->is_object()) {
    out.container_type = annotations->value("io.kubernetes.cri.container-type", "");
    out.sandbox_id = annotations->value("io.kubernetes.cri.sandbox-id", "");
  }
  out.document = std::move(spec);
  return out;
}

std::string string_field(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<void> write_bundle_spec(const std::string& bundle, const nlohmann::json& document) {
  return write_file_atomic(bundle + "/config.json", document.dump(), 0644);
}

}  // namespace shim
