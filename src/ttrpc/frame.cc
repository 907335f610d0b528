#include "ttrpc/frame.h"

#include <algorithm>

namespace shim::ttrpc {
namespace {

void put_u32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

uint32_t get_u32(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

}  // namespace

void encode_header(const FrameHeader& header, char out[kHeaderSize]) {
  put_u32(out, header.length);
  put_u32(out + 4, header.stream_id);
  out[8] = static_cast<char>(header.type);
  out[9] = static_cast<char>(header.flags);
}

FrameHeader decode_header(const char in[kHeaderSize]) {
  FrameHeader h;
  h.length = get_u32(in);
  h.stream_id = get_u32(in + 4);
  h.type = static_cast<uint8_t>(in[8]);
  h.flags = static_cast<uint8_t>(in[9]);
  return h;
}

void append_frame(std::string& out, uint32_t stream_id, FrameType type, std::string_view data,
                  uint8_t flags) {
  char header[kHeaderSize];
  encode_header({static_cast<uint32_t>(data.size()), stream_id, static_cast<uint8_t>(type), flags},
                header);
  out.append(header, kHeaderSize);
  out.append(data);
}

void FrameReader::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    if (header_have_ < kHeaderSize) {
      size_t n = std::min(kHeaderSize - header_have_, bytes.size());
      std::copy_n(bytes.data(), n, header_buf_ + header_have_);
      header_have_ += n;
      bytes.remove_prefix(n);
      if (header_have_ < kHeaderSize) return;
      header_ = decode_header(header_buf_);
      skipping_ = header_.length > max_data_;
      skip_left_ = skipping_ ? header_.length : 0;
      body_.clear();
      // Grow with what actually arrives: a header alone must not make us allocate 4 MiB.
      if (!skipping_) body_.reserve(std::min<uint32_t>(header_.length, 64 * 1024));
    }
    if (skipping_) {
      size_t n = std::min<size_t>(skip_left_, bytes.size());
      skip_left_ -= static_cast<uint32_t>(n);
      bytes.remove_prefix(n);
      if (skip_left_ == 0) finish_frame();
      continue;
    }
    size_t n = std::min<size_t>(header_.length - body_.size(), bytes.size());
    body_.append(bytes.data(), n);
    bytes.remove_prefix(n);
    if (body_.size() == header_.length) finish_frame();
  }
}

void FrameReader::finish_frame() {
  Frame f;
  f.header = header_;
  f.oversized = skipping_;
  if (!skipping_) f.data = std::move(body_);
  body_ = std::string();
  ready_.push_back(std::move(f));
  header_have_ = 0;
  skipping_ = false;
}

std::optional<Frame> FrameReader::next() {
  if (ready_.empty()) return std::nullopt;
  Frame f = std::move(ready_.front());
  ready_.pop_front();
  return f;
}

}  // namespace shim::ttrpc
