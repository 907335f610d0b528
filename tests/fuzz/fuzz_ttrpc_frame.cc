// libFuzzer target: arbitrary bytes through the ttrpc FrameReader, each frame body decoded as a
// ttrpc Request (and Response), as the server and client do with what a peer sends.
//
// Input layout: byte 0 picks the data limit (small limits reach the oversized-skip path with
// tiny inputs), byte 1 the chunk size the stream is fed in (splits across headers and bodies),
// the rest is the stream. Beyond "no crash", it checks that the frames reproduce the stream.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "ttrpc.pb.h"
#include "ttrpc/frame.h"

using shim::ttrpc::Frame;
using shim::ttrpc::FrameReader;
using shim::ttrpc::kHeaderSize;
using shim::ttrpc::kMaxDataSize;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// A decoded message must survive encode → decode unchanged.
template <class M>
void round_trip(std::string_view body) {
  M m;
  if (!m.decode(body)) return;
  M again;
  check(again.decode(m.encode()));
  check(again == m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  uint32_t max_data = data[0] == 0xff ? kMaxDataSize : data[0];
  size_t chunk = data[1] == 0 ? size : data[1];
  std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  FrameReader reader(max_data);
  size_t offset = 0;  // where the next frame must start in `stream`
  for (size_t at = 0; at < stream.size(); at += chunk) {
    reader.feed(stream.substr(at, chunk));
    while (auto f = reader.next()) {
      check(offset + kHeaderSize + f->header.length <= stream.size());
      std::string expect;
      if (f->oversized) {
        check(f->header.length > max_data && f->data.empty());
      } else {
        check(f->header.length <= max_data && f->data.size() == f->header.length);
        char header[kHeaderSize];
        shim::ttrpc::encode_header(f->header, header);
        check(std::memcmp(header, stream.data() + offset, kHeaderSize) == 0);
        check(stream.substr(offset + kHeaderSize, f->data.size()) == f->data);
        round_trip<pb::ttrpc::Request>(f->data);
        round_trip<pb::ttrpc::Response>(f->data);
      }
      offset += kHeaderSize + f->header.length;
    }
  }
  // Whatever is left over is exactly one incomplete frame.
  check(reader.mid_frame() == (offset < stream.size()));
  return 0;
}
