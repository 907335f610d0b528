#include "process/bundle_record.h"

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/strings.h"

namespace shim {

Result<void> write_bundle_record(const std::string& bundle, const BundleRecord& record) {
  nlohmann::json j = {{"config_path", record.config_path},
                      {"runsc_binary", record.runsc_binary},
                      {"runsc_root", record.runsc_root},
                      {"sandbox_id", record.sandbox_id},
                      {"rootfs_mounted", record.rootfs_mounted}};
  return write_file_atomic(str_cat(bundle, "/", kBundleRecordFile), j.dump(), 0600);
}

Result<BundleRecord> read_bundle_record(const std::string& bundle) {
  auto text = read_file(str_cat(bundle, "/", kBundleRecordFile));
  if (!text) return std::move(text).error();
  auto j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Error(Code::kInvalidArgument, str_cat("malformed ", kBundleRecordFile));
  }
  BundleRecord record;
  record.config_path = j.value("config_path", "");
  record.runsc_binary = j.value("runsc_binary", "");
  record.runsc_root = j.value("runsc_root", "");
  record.sandbox_id = j.value("sandbox_id", "");
  record.rootfs_mounted = j.value("rootfs_mounted", false);
  return record;
}

}  // namespace shim
