#include "task_server_script.h"

namespace shim::fuzz {

std::vector<Action> parse_script(std::string_view input) {
  std::vector<Action> actions;
  size_t at = 0;
  while (at < input.size() && actions.size() < kMaxActions) {
    uint8_t byte = static_cast<uint8_t>(input[at++]);
    Action action{static_cast<Op>(byte & 7), static_cast<uint8_t>(byte >> 3), {}};
    if (action.op == Op::kSend) {
      size_t length = 0;
      for (int i = 0; i < 2 && at < input.size(); ++i) {
        length |= static_cast<size_t>(static_cast<uint8_t>(input[at++])) << (8 * i);
      }
      action.bytes = input.substr(at, length);
      at += action.bytes.size();
    }
    actions.push_back(action);
  }
  return actions;
}

}  // namespace shim::fuzz
