// The frame codec: byte splits, batching, oversized skipping.
#include "ttrpc/frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace shim::ttrpc {
namespace {

std::string frame(uint32_t sid, FrameType type, std::string_view data) {
  std::string out;
  append_frame(out, sid, type, data);
  return out;
}

std::vector<Frame> drain(FrameReader& r) {
  std::vector<Frame> out;
  while (auto f = r.next()) out.push_back(std::move(*f));
  return out;
}

TEST(FrameTest, HeaderIsBigEndian) {
  char h[kHeaderSize];
  encode_header({0x01020304, 0x0a0b0c0d, 1, 0x80}, h);
  EXPECT_EQ(std::string(h, kHeaderSize),
            std::string("\x01\x02\x03\x04\x0a\x0b\x0c\x0d\x01\x80", 10));
  FrameHeader d = decode_header(h);
  EXPECT_EQ(d.length, 0x01020304u);
  EXPECT_EQ(d.stream_id, 0x0a0b0c0du);
  EXPECT_EQ(d.type, 1);
  EXPECT_EQ(d.flags, 0x80);
}

TEST(FrameTest, SplitAtEveryByte) {
  std::string bytes = frame(1, FrameType::kRequest, "hello") + frame(3, FrameType::kRequest, "") +
                      frame(5, FrameType::kData, std::string(300, 'x'));
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    FrameReader r;
    r.feed(std::string_view(bytes).substr(0, cut));
    r.feed(std::string_view(bytes).substr(cut));
    auto frames = drain(r);
    ASSERT_EQ(frames.size(), 3u) << "cut at " << cut;
    EXPECT_EQ(frames[0].data, "hello");
    EXPECT_EQ(frames[0].header.stream_id, 1u);
    EXPECT_EQ(frames[1].data, "");
    EXPECT_EQ(frames[1].header.stream_id, 3u);
    EXPECT_EQ(frames[2].data, std::string(300, 'x'));
    EXPECT_EQ(frames[2].header.type, 3);
    EXPECT_FALSE(r.mid_frame());
  }
}

TEST(FrameTest, OneByteAtATime) {
  std::string bytes = frame(7, FrameType::kResponse, "abc") + frame(9, FrameType::kResponse, "d");
  FrameReader r;
  for (char c : bytes) r.feed(std::string_view(&c, 1));
  auto frames = drain(r);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].data, "abc");
  EXPECT_EQ(frames[1].data, "d");
}

TEST(FrameTest, ManyFramesInOneChunk) {
  std::string bytes;
  for (uint32_t i = 0; i < 1000; ++i) bytes += frame(2 * i + 1, FrameType::kRequest, "p");
  FrameReader r;
  r.feed(bytes);
  auto frames = drain(r);
  ASSERT_EQ(frames.size(), 1000u);
  EXPECT_EQ(frames[999].header.stream_id, 1999u);
}

TEST(FrameTest, PartialFrameIsMidFrame) {
  std::string bytes = frame(1, FrameType::kRequest, "hello");
  FrameReader r;
  EXPECT_FALSE(r.mid_frame());
  r.feed(bytes.substr(0, 3));
  EXPECT_TRUE(r.mid_frame());
  r.feed(bytes.substr(3, 9));
  EXPECT_TRUE(r.mid_frame());
  EXPECT_FALSE(r.next());
  r.feed(bytes.substr(12));
  EXPECT_FALSE(r.mid_frame());
  EXPECT_TRUE(r.next());
}

TEST(FrameTest, OversizedIsSkippedThenNextFrameParses) {
  char h[kHeaderSize];
  uint32_t big = kMaxDataSize + 1;
  encode_header({big, 11, 1, 0}, h);
  FrameReader r;
  r.feed(std::string_view(h, kHeaderSize));
  // Stream the body in chunks; none of it is kept.
  std::string chunk(64 * 1024, 'z');
  uint32_t left = big;
  while (left > 0) {
    uint32_t n = std::min<uint32_t>(left, chunk.size());
    r.feed(std::string_view(chunk).substr(0, n));
    left -= n;
    if (left > 0) {
      EXPECT_FALSE(r.next());
    }
  }
  r.feed(frame(13, FrameType::kRequest, "ok"));
  auto frames = drain(r);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_TRUE(frames[0].oversized);
  EXPECT_EQ(frames[0].header.stream_id, 11u);
  EXPECT_EQ(frames[0].header.length, big);
  EXPECT_TRUE(frames[0].data.empty());
  EXPECT_FALSE(frames[1].oversized);
  EXPECT_EQ(frames[1].data, "ok");
}

TEST(FrameTest, ExactlyMaxIsNotOversized) {
  FrameReader r(16);
  r.feed(frame(1, FrameType::kRequest, std::string(16, 'a')));
  r.feed(frame(3, FrameType::kRequest, std::string(17, 'b')));
  auto frames = drain(r);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_FALSE(frames[0].oversized);
  EXPECT_EQ(frames[0].data.size(), 16u);
  EXPECT_TRUE(frames[1].oversized);
}

TEST(FrameTest, OversizedSplitAtEveryByte) {
  std::string bytes =
      frame(1, FrameType::kRequest, std::string(20, 'a')) + frame(3, FrameType::kRequest, "fine");
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    FrameReader r(8);
    r.feed(std::string_view(bytes).substr(0, cut));
    r.feed(std::string_view(bytes).substr(cut));
    auto frames = drain(r);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_TRUE(frames[0].oversized);
    EXPECT_EQ(frames[1].data, "fine");
  }
}

}  // namespace
}  // namespace shim::ttrpc
