// One shim for one fuzz input, wired as run_daemon wires it: the real reactor, child reaper,
// runsc driver (aimed at fake_runsc.sh), event publisher, ttrpc server and Task service, plus
// an events sink standing in for containerd and the client ends of the script's connections.
// Everything is made fresh per input and torn down before the next, so an input's outcome
// does not depend on the inputs before it, and anything it leaves behind (a container, a
// process, an fd, a parked coroutine that LSan sees as a leak) is a finding.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/unique_fd.h"
#include "events/publisher.h"
#include "reactor/child_reaper.h"
#include "reactor/command.h"
#include "reactor/reactor.h"
#include "request_sanitizer.h"
#include "service/task_service.h"
#include "task_server_script.h"
#include "ttrpc/frame.h"
#include "ttrpc/server.h"

namespace shim::fuzz {

struct Scratch {
  std::string dir;  // wiped after every input
  std::string task_socket;
  std::string events_socket;
  ScratchPaths paths;
};

class ShimUnderFuzz {
 public:
  explicit ShimUnderFuzz(const Scratch& scratch);
  // Tears down: connections closed, sandboxes killed, every created container deleted.
  ~ShimUnderFuzz();

  void run(const Action& action);

 private:
  // The client's end of one connection. What the script sends is cut into frames here
  // first: only complete frames, made safe, are written (a partial frame is held until it
  // completes, or written as it is when the connection ends and it never can). The body of
  // an oversized frame goes out as it comes: the server skips it unread.
  struct Client {
    UniqueFd fd;
    std::string partial;     // the start of a frame whose end has not been sent yet
    uint32_t skip_left = 0;  // bytes of an oversized body still to pass through
    std::string unsent;      // safe bytes not written yet
    size_t held = 0;         // how many of `unsent` a split SEND keeps back
    bool write_closed = false;
    ttrpc::FrameReader replies;
    std::map<uint32_t, int> owed;  // replies the server owes, by stream id
  };

  Client* current();
  void connect();
  void send(Client& client, std::string_view bytes, size_t hold);
  void flush(Client& client);
  void end_writes(Client& client);  // the last bytes, then EOF
  void close_current();
  void read_replies();
  void read_replies(Client& client);

  void run_turns(int turns);
  // Runs the loop until no runsc call is under way (no child but a live fake sandbox) and
  // the loop has been quiet for a few turns, or `limit` passed.
  void settle(std::chrono::milliseconds limit);
  // Runs the loop (blocking up to 1 ms at a time) while `more()` holds, at most `limit`.
  template <class Pred>
  void run_while(Pred more, std::chrono::milliseconds limit);
  // Kills every child of this input (sandboxes, runsc calls) and runs the loop until each
  // exit was handled; again if handling one started another (a restore's new sandbox).
  void kill_children();
  void teardown();

  const Scratch& scratch_;
  // Children that are not this input's (libFuzzer's llvm-symbolizer): left alone.
  std::vector<pid_t> children_before_;
  std::vector<pid_t> killed_;  // by the teardown, to be reaped
  std::unique_ptr<Reactor> reactor_;
  std::unique_ptr<ChildReaper> reaper_;
  std::unique_ptr<CommandRunner> runner_;
  std::unique_ptr<ttrpc::Server> events_sink_;
  std::unique_ptr<events::EventPublisher> publisher_;
  std::unique_ptr<ttrpc::Server> server_;
  std::unique_ptr<TaskService> service_;
  RequestSanitizer sanitizer_;
  std::vector<std::unique_ptr<Client>> clients_;
  size_t current_ = 0;
};

// Reports a broken promise of the shim as a crash, which libFuzzer saves with its input.
[[noreturn]] void report_finding(std::string_view what);

// Host pids of this process's children (/proc/self/task/<tid>/children; one thread) but
// those in `before`.
std::vector<pid_t> child_pids(const std::vector<pid_t>& before = {});
// False for a fake sandbox that is still running: anything else is work under way.
bool is_runsc_call(pid_t child);

}  // namespace shim::fuzz
