// Keeps what the fuzzer sends off the host. The shim runs as root in CI, and a Task request
// names host paths: Create mounts its rootfs and writes into its bundle, stdio URIs open files
// and start `binary://` loggers, Update writes cgroup limits (the fake sandbox lives in the
// fuzzer's own cgroup). Every request frame the client is about to send passes through here
// first; the fields that reach the host are pointed into the scratch directory, the rest of
// the request reaches the server as the fuzzer made it. A request that does not decode is sent
// as it is: the server decodes it with the same code and refuses it the same way.
#pragma once

#include <set>
#include <string>
#include <utility>

#include "ttrpc/frame.h"

namespace shim::fuzz {

struct ScratchPaths {
  std::string shim_toml;  // binary_name = fake_runsc.sh, root under the scratch dir
  std::string bundles;    // a Create whose bundle ends in its id gets bundles/<id>
  std::string stdout_file;
  std::string stderr_file;
};

class RequestSanitizer {
 public:
  explicit RequestSanitizer(ScratchPaths paths) : paths_(std::move(paths)) {}

  // The bytes to send for one complete frame: the frame itself, or a rewritten copy.
  std::string frame_bytes(const ttrpc::Frame& frame);
  // The ids of every Create sent so far, for the teardown's Deletes.
  const std::set<std::string>& created_ids() const { return created_ids_; }

 private:
  // Rewrite the payload of one Task request in place; false when it does not decode (it is
  // then sent as it is).
  bool rewrite_create(std::string& payload);
  bool rewrite_exec(std::string& payload);
  bool rewrite_update(std::string& payload);
  std::string stdio_path(const std::string& requested, const std::string& scratch) const;

  ScratchPaths paths_;
  std::set<std::string> created_ids_;
};

}  // namespace shim::fuzz
