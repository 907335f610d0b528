// The copier on its own: a stream that arrives in small pieces is moved in batches (few
// wake-ups), completely and in order.
#include "io/copier.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "test_util.h"

namespace shim::io {
namespace {

using testing::Loop;
using testing::read_available;
using testing::set_nonblocking;

// A copier from one pipe to another on `loop`: the test writes into `writer`, and
// drain() collects what comes out until the copier is done and the output at EOF.
struct PipeCopy {
  explicit PipeCopy(Loop& loop) : loop(loop) {
    int src[2], dst[2];
    EXPECT_EQ(::pipe2(src, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(dst, O_CLOEXEC), 0);
    set_nonblocking(dst[0]);
    writer = src[1];
    reader = UniqueFd(dst[0]);
    copier = std::make_unique<Copier>(*loop.reactor, "test", UniqueFd(src[0]), UniqueFd(dst[1]),
                                      [this] { done = true; });
    copier->start();
  }

  std::string drain() {
    std::string out;
    bool eof = false;
    EXPECT_TRUE(loop.run_until([&] {
      eof = eof || read_available(reader.get(), out);
      return done && eof;
    }));
    return out;
  }

  Loop& loop;
  int writer = -1;  // closed by the test: that is the EOF
  UniqueFd reader;
  bool done = false;
  std::unique_ptr<Copier> copier;
};

TEST(Copier, SmallPiecesArriveInBatches) {
  Loop loop;
  PipeCopy pipes(loop);
  // 256 writes of 1 KiB, 50 µs apart: one wake-up each without batching.
  constexpr int kPieces = 256;
  std::thread writer([w = pipes.writer] {
    for (int i = 0; i < kPieces; ++i) {
      std::string piece(1024, static_cast<char>('a' + i % 26));
      ASSERT_EQ(::write(w, piece.data(), piece.size()), 1024);
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    ::close(w);
  });
  std::string out = pipes.drain();
  writer.join();

  ASSERT_EQ(out.size(), size_t{kPieces} * 1024);
  for (int i = 0; i < kPieces; ++i) {
    ASSERT_EQ(out[static_cast<size_t>(i) * 1024], static_cast<char>('a' + i % 26)) << i;
  }
  // About 13 ms of writes in windows of 2 ms, plus the first piece and EOF.
  EXPECT_LE(pipes.copier->wakeups(), 40u) << "a wake-up per piece: small pieces are not batched";
}

TEST(Copier, QuietStreamEndsWithoutWaitingForTheBatchDelay) {
  Loop loop;
  PipeCopy pipes(loop);
  ASSERT_EQ(::write(pipes.writer, "hello\n", 6), 6);
  ::close(pipes.writer);
  EXPECT_EQ(pipes.drain(), "hello\n");
  EXPECT_TRUE(pipes.copier->done());
}

}  // namespace
}  // namespace shim::io
