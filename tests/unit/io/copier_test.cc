// The copier on its own: a stream that arrives in small pieces is moved in batches (few
// wake-ups), completely and in order.
#include "io/copier.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "test_util.h"

namespace shim::io {
namespace {

using testing::Loop;
using testing::read_available;
using testing::set_nonblocking;

TEST(Copier, SmallPiecesArriveInBatches) {
  Loop loop;
  int src[2], dst[2];
  ASSERT_EQ(::pipe2(src, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(dst, O_CLOEXEC), 0);
  set_nonblocking(dst[0]);
  bool done = false;
  Copier copier(*loop.reactor, "pieces", UniqueFd(src[0]), UniqueFd(dst[1]), [&] { done = true; });
  copier.start();

  // 256 writes of 1 KiB, 50 µs apart: one wake-up each without batching.
  constexpr int kPieces = 256;
  std::thread writer([w = src[1]] {
    for (int i = 0; i < kPieces; ++i) {
      std::string piece(1024, static_cast<char>('a' + i % 26));
      ASSERT_EQ(::write(w, piece.data(), piece.size()), 1024);
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    ::close(w);
  });
  std::string out;
  bool eof = false;
  EXPECT_TRUE(loop.run_until([&] {
    eof = eof || read_available(dst[0], out);
    return done && eof;
  }));
  writer.join();
  ::close(dst[0]);

  ASSERT_EQ(out.size(), size_t{kPieces} * 1024);
  for (int i = 0; i < kPieces; ++i) {
    ASSERT_EQ(out[static_cast<size_t>(i) * 1024], static_cast<char>('a' + i % 26)) << i;
  }
  // About 13 ms of writes in windows of 2 ms, plus the first piece and EOF.
  EXPECT_LE(copier.wakeups(), 40u) << "a wake-up per piece: small pieces are not batched";
}

TEST(Copier, QuietStreamEndsWithoutWaitingForTheBatchDelay) {
  Loop loop;
  int src[2], dst[2];
  ASSERT_EQ(::pipe2(src, O_CLOEXEC), 0);
  ASSERT_EQ(::pipe2(dst, O_CLOEXEC), 0);
  set_nonblocking(dst[0]);
  bool done = false;
  Copier copier(*loop.reactor, "short", UniqueFd(src[0]), UniqueFd(dst[1]), [&] { done = true; });
  copier.start();
  ASSERT_EQ(::write(src[1], "hello\n", 6), 6);
  ::close(src[1]);
  std::string out;
  bool eof = false;
  EXPECT_TRUE(loop.run_until([&] {
    eof = eof || read_available(dst[0], out);
    return done && eof;
  }));
  ::close(dst[0]);
  EXPECT_EQ(out, "hello\n");
  EXPECT_TRUE(copier.done());
}

}  // namespace
}  // namespace shim::io
