// The copier on its own: a stream that arrives in small pieces is moved in batches (few
// wake-ups), completely and in order.
#include "io/copier.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "io/endpoints.h"
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

// A fifo destination whose client arrives late, as containerd's client's goroutine does: what
// the process wrote before is waiting for it, and the client sees EOF at the end.
struct LateClientFifo {
  explicit LateClientFifo(Loop& loop) {
    path = dir / "out";
    EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0);
    int src[2];
    EXPECT_EQ(::pipe2(src, O_CLOEXEC), 0);
    writer = src[1];
    auto dst = open_output_path(path, &hold);
    EXPECT_TRUE(dst.ok());
    EXPECT_TRUE(hold.valid());  // nobody read it yet
    copier = std::make_unique<Copier>(*loop.reactor, "late", UniqueFd(src[0]), std::move(*dst),
                                      [this] { done = true; });
    copier->linger_until_read();
    copier->hold_reader(std::move(hold));
    copier->start();
  }
  testing::TempDir dir;
  std::string path;
  UniqueFd hold;
  int writer = -1;
  bool done = false;
  std::unique_ptr<Copier> copier;
};

TEST(Copier, OutputWaitsForALateClient) {
  Loop loop;
  LateClientFifo fifo(loop);
  ASSERT_EQ(::write(fifo.writer, "early\n", 6), 6);
  ::close(fifo.writer);  // the process is done before the client opened its side
  loop.run_until([] { return false; }, std::chrono::milliseconds(100));
  EXPECT_FALSE(fifo.done);  // not delivered yet: lingering for a reader
  UniqueFd client(::open(fifo.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  ASSERT_TRUE(client.valid());
  std::string out;
  bool eof = false;
  EXPECT_TRUE(loop.run_until([&] {
    eof = eof || read_available(client.get(), out);
    return fifo.done && eof;
  }));
  EXPECT_EQ(out, "early\n");
  EXPECT_EQ(fifo.copier->discarded(), 0u);
}

// /bin/true run through the sandbox's control socket can be over in a few ms, before
// containerd's client has opened its side: that open must still find a writer, and EOF.
TEST(Copier, AnEmptyOutputWaitsForALateClient) {
  Loop loop;
  LateClientFifo fifo(loop);
  ::close(fifo.writer);  // the process is done, without a byte, before the client opened
  loop.run_until([] { return false; }, std::chrono::milliseconds(100));
  EXPECT_FALSE(fifo.done);
  // containerd's client opens for reading without O_NONBLOCK, which returns only while a
  // writer is open; the test opens non-blocking so that a missing writer fails, not hangs:
  // then the first read is EOF rather than "nothing yet".
  auto t0 = std::chrono::steady_clock::now();
  UniqueFd client(::open(fifo.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  ASSERT_TRUE(client.valid());
  char byte;
  EXPECT_EQ(::read(client.get(), &byte, 1), -1) << "no writer left for the client";
  EXPECT_EQ(errno, EAGAIN);
  std::string out;
  bool eof = false;
  EXPECT_TRUE(loop.run_until([&] {
    eof = eof || read_available(client.get(), out);
    return fifo.done && eof;
  }));
  EXPECT_EQ(out, "");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, Copier::kReaderHoldLimit / 2)
      << "once the client is there, the end of the output is not held back";
}

TEST(Copier, AClientThatNeverComesIsGivenUpOn) {
  Loop loop;
  LateClientFifo fifo(loop);
  ASSERT_EQ(::write(fifo.writer, "lost\n", 5), 5);
  ::close(fifo.writer);
  // Lingering for a reader, but only until the hold's limit: then the fifo has none, and the
  // output is over.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(loop.run_until([&] { return fifo.done; },
                             Copier::kReaderHoldLimit + std::chrono::milliseconds(1000)));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, Copier::kReaderHoldLimit);
}

}  // namespace
}  // namespace shim::io
