// ttrpc framing (docs/containerd-contract.md): a 10-byte big-endian header `u32 length |
// u32 stream_id | u8 type | u8 flags` followed by `length` bytes of data. Pure code, no I/O, so
// the fuzzer can drive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace shim::ttrpc {

inline constexpr size_t kHeaderSize = 10;
// Largest data a frame may carry; containerd's ttrpc uses the same limit in both directions.
inline constexpr uint32_t kMaxDataSize = 4u << 20;

enum class FrameType : uint8_t { kRequest = 1, kResponse = 2, kData = 3 };

struct FrameHeader {
  uint32_t length = 0;
  uint32_t stream_id = 0;
  uint8_t type = 0;  // raw: unknown types must reach the caller, which decides what to ignore
  uint8_t flags = 0;
};

void encode_header(const FrameHeader& header, char out[kHeaderSize]);
FrameHeader decode_header(const char in[kHeaderSize]);
// Appends header + data. The caller keeps data within kMaxDataSize.
void append_frame(std::string& out, uint32_t stream_id, FrameType type, std::string_view data,
                  uint8_t flags = 0);

struct Frame {
  FrameHeader header;
  std::string data;
  // The declared length was over the limit: the data was discarded as it arrived and `data`
  // is empty. The peer is still in sync, so the stream can be answered RESOURCE_EXHAUSTED.
  bool oversized = false;
};

// Turns a byte stream into frames, however the bytes are split: partial headers, partial
// bodies, many frames per chunk. Oversized bodies are skipped, never buffered, and reported as
// a Frame with `oversized` set once the last skipped byte has arrived.
class FrameReader {
 public:
  explicit FrameReader(uint32_t max_data = kMaxDataSize) : max_data_(max_data) {}

  void feed(std::string_view bytes);
  // The next complete frame, in arrival order.
  std::optional<Frame> next();
  // True while part of a frame (header or body) has arrived but not all of it: at EOF this
  // is a half-written frame, which is discarded.
  bool mid_frame() const { return header_have_ > 0; }
  size_t ready() const { return ready_.size(); }

 private:
  void finish_frame();

  uint32_t max_data_;
  char header_buf_[kHeaderSize];
  size_t header_have_ = 0;  // 0..kHeaderSize; == kHeaderSize while reading the body
  FrameHeader header_;
  std::string body_;
  uint32_t skip_left_ = 0;  // bytes of an oversized body still to discard
  bool skipping_ = false;
  std::deque<Frame> ready_;
};

}  // namespace shim::ttrpc
