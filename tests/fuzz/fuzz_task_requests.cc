// Fuzzes the decoders of every Task API request the shim accepts, plus the runtime options
// and an exec's process spec Any: whatever containerd (or anyone who reaches the socket)
// sends, decoding must neither crash nor misbehave, and what decodes re-encodes to something
// that decodes to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "github.com/containerd/containerd/pkg/runtimeoptions/v1/api.pb.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"

namespace {

namespace task = pb::containerd::task::v2;

template <class Message>
void round_trip(std::string_view data) {
  Message m;
  if (!m.decode(data)) return;
  std::string again = m.encode();
  Message back;
  if (!back.decode(again) || !(back == m)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the message, as the method name does on the wire.
  std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  switch (bytes[0] % 19) {
    case 0: round_trip<task::CreateTaskRequest>(data); break;
    case 1: round_trip<task::StartRequest>(data); break;
    case 2: round_trip<task::DeleteRequest>(data); break;
    case 3: round_trip<task::StateRequest>(data); break;
    case 4: round_trip<task::WaitRequest>(data); break;
    case 5: round_trip<task::KillRequest>(data); break;
    case 6: round_trip<task::PidsRequest>(data); break;
    case 7: round_trip<task::ExecProcessRequest>(data); break;
    case 8: round_trip<task::CloseIORequest>(data); break;
    case 9: round_trip<task::ResizePtyRequest>(data); break;
    case 10: round_trip<task::PauseRequest>(data); break;
    case 11: round_trip<task::ResumeRequest>(data); break;
    case 12: round_trip<task::CheckpointTaskRequest>(data); break;
    case 13: round_trip<task::UpdateTaskRequest>(data); break;
    case 14: round_trip<task::StatsRequest>(data); break;
    case 15: round_trip<task::ConnectRequest>(data); break;
    case 16: round_trip<task::ShutdownRequest>(data); break;
    case 17: round_trip<pb::runtimeoptions::v1::Options>(data); break;
    case 18: round_trip<task::StateResponse>(data); break;
  }
  return 0;
}
