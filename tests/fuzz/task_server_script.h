// The input format of fuzz_task_server: a script of what a client does to the shim's socket.
// Records are `op` bytes, some followed by a payload; the low 3 bits of `op` pick the action
// and the high 5 bits are its argument, so every byte string is a valid script.
//
//   SEND     op, u16 length (little endian), bytes: the client writes these bytes (frames, or
//            parts of frames) on its current connection; arg > 0 holds back the last `arg`
//            bytes of what is ready, so a frame can arrive in two parts around other actions
//   TURNS    op: the reactor runs arg + 1 turns that do not block
//   SETTLE   op: the reactor runs until the runsc calls under way are done, at most
//            (arg + 1) * 20 ms (a Create or Kill spawns the fake runsc)
//   CONNECT  op: a new connection becomes the current one (at most kMaxConnections open)
//   CLOSE    op: the client closes its current connection (calls parked on it are cancelled)
//   SWITCH   op: connection `arg % open` becomes the current one
//   HALF_CLOSE op: shutdown(SHUT_WR) of the current connection: EOF with replies still owed
//   READ     op: the client reads what the shim replied (also done after TURNS and SETTLE)
//
// tests/fuzz/capture_task_server_corpus.py writes seeds in this format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace shim::fuzz {

enum class Op : uint8_t {
  kSend = 0,
  kTurns = 1,
  kSettle = 2,
  kConnect = 3,
  kClose = 4,
  kSwitch = 5,
  kHalfClose = 6,
  kRead = 7,
};

struct Action {
  Op op;
  uint8_t arg;             // 0..31
  std::string_view bytes;  // SEND only: a view into the input
};

inline constexpr size_t kMaxConnections = 4;
// Longer scripts add little but time per input.
inline constexpr size_t kMaxActions = 256;

// Reads the whole input; a truncated SEND takes what is left.
std::vector<Action> parse_script(std::string_view input);

}  // namespace shim::fuzz
