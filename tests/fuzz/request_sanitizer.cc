#include "request_sanitizer.h"

#include <sys/stat.h>

#include "github.com/containerd/containerd/pkg/runtimeoptions/v1/api.pb.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "process/ids.h"
#include "ttrpc.pb.h"

namespace shim::fuzz {

namespace task = pb::containerd::task::v2;

std::string RequestSanitizer::frame_bytes(const ttrpc::Frame& frame) {
  std::string data = frame.data;
  pb::ttrpc::Request req;
  if (frame.header.type == static_cast<uint8_t>(ttrpc::FrameType::kRequest) && !frame.oversized &&
      req.decode(frame.data) && req.service == task::kTaskServiceName) {
    bool changed = false;
    if (req.method == "Create") changed = rewrite_create(req.payload);
    if (req.method == "Exec") changed = rewrite_exec(req.payload);
    if (req.method == "Update") changed = rewrite_update(req.payload);
    if (changed) data = req.encode();
  }
  ttrpc::FrameHeader header = frame.header;
  // An oversized frame keeps its declared length; its body never reaches a decoder.
  if (!frame.oversized) header.length = static_cast<uint32_t>(data.size());
  char raw[ttrpc::kHeaderSize];
  ttrpc::encode_header(header, raw);
  return std::string(raw, sizeof raw) + data;
}

std::string RequestSanitizer::stdio_path(const std::string& requested,
                                         const std::string& scratch) const {
  // A plain file in the scratch dir: the copier and the file:// endpoint still run.
  return requested.empty() ? std::string() : "file://" + scratch;
}

bool RequestSanitizer::rewrite_create(std::string& payload) {
  task::CreateTaskRequest req;
  if (!req.decode(payload)) return false;
  // containerd's bundle is <state>/<namespace>/<id>: such a Create gets a bundle of its own
  // and can succeed; any other is sent to a bundle that does not exist and fails early.
  bool named_for_id = req.bundle.size() > req.id.size() && req.bundle.ends_with(req.id) &&
                      req.bundle[req.bundle.size() - req.id.size() - 1] == '/';
  if (named_for_id && validate_id(req.id, "container id")) {
    req.bundle = paths_.bundles + "/" + req.id;
    ::mkdir(req.bundle.c_str(), 0700);
    created_ids_.insert(req.id);
  } else {
    req.bundle = paths_.bundles + "/missing/" + std::to_string(req.bundle.size());
  }
  req.rootfs.clear();  // mount(2) as root: never
  // runsc's console socket would wait for a pty the fake runsc never sends.
  req.terminal = false;
  req.stdin.clear();
  req.stdout = stdio_path(req.stdout, paths_.stdout_file);
  req.stderr = stdio_path(req.stderr, paths_.stderr_file);
  // Our TOML, whatever the client named: its binary is the fake runsc.
  pb::runtimeoptions::v1::Options options;
  options.config_path = paths_.shim_toml;
  req.options.emplace();
  req.options->type_url = "runtimeoptions.v1.Options";
  req.options->value = options.encode();
  payload = req.encode();
  return true;
}

bool RequestSanitizer::rewrite_exec(std::string& payload) {
  task::ExecProcessRequest req;
  if (!req.decode(payload)) return false;
  req.terminal = false;
  req.stdin.clear();
  req.stdout = stdio_path(req.stdout, paths_.stdout_file);
  req.stderr = stdio_path(req.stderr, paths_.stderr_file);
  payload = req.encode();
  return true;
}

bool RequestSanitizer::rewrite_update(std::string& payload) {
  task::UpdateTaskRequest req;
  if (!req.decode(payload)) return false;
  // The fake sandbox's cgroup is the fuzzer's own: no limits are written to it.
  req.resources.reset();
  payload = req.encode();
  return true;
}

}  // namespace shim::fuzz
