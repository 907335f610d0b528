// The stdio of one process (a container's init or an exec): containerd's endpoints on one side,
// the fds runsc hands into the sandbox on the other, and the copying in between.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "io/binary_logger.h"
#include "io/console.h"
#include "io/copier.h"
#include "reactor/child_reaper.h"
#include "reactor/reactor.h"
#include "reactor/readable_wait.h"
#include "reactor/task.h"

namespace shim::io {

// Who makes a terminal: runsc (it sends the master over the console socket) or the shim (a
// pty of its own, whose replica it hands to the sandbox as the process's stdio).
enum class TerminalMaker { kRunsc, kShim };

struct StdioConfig {
  std::string stdin_path, stdout_path, stderr_path;
  bool terminal = false;
  // Owner given to the pipes the process reads and writes (runc's IoUid/IoGid): a process in a
  // user namespace must be able to reopen them (/dev/stdout). 0/0 leaves them root's.
  uint32_t io_uid = 0;
  uint32_t io_gid = 0;
};

// Order of use: open() → runsc create/exec with child_*() (and --console-socket) → attach()
// → ... process exits ... → drained() → destroy. Reactor and reaper must outlive this object.
class ProcessIo {
 public:
  // Opens containerd's endpoints and makes the fds for the child; copying of pipes starts at
  // once (it needs the reactor running). For a terminal, also listens on a console socket.
  static Result<std::unique_ptr<ProcessIo>> open(Reactor& reactor, ChildReaper& reaper,
                                                 const StdioConfig& config, std::string_view ns,
                                                 std::string_view id,
                                                 TerminalMaker maker = TerminalMaker::kRunsc);
  ~ProcessIo();
  ProcessIo(const ProcessIo&) = delete;
  ProcessIo& operator=(const ProcessIo&) = delete;

  // The fds to give runsc as the process's stdio; -1 means /dev/null. For a terminal: all -1
  // when runsc makes it, the pty's replica (three times) when the shim does.
  int child_stdin() const { return child_stdin_.get(); }
  int child_stdout() const { return child_stdout_.get(); }
  int child_stderr() const { return child_stderr_.get(); }
  const std::string& console_socket() const;  // empty unless terminal

  // After runsc create/exec returned: closes the shim's copies of the child's ends (the
  // sandbox keeps its own; without this no EOF ever comes), waits (bounded) for a binary://
  // logger to be ready, and for a terminal receives the pty master from the console socket
  // and starts copying through it. Do not destroy this object while attach() is pending.
  Task<Result<void>> attach();

  // When runsc failed and the child's ends went nowhere: closes the shim's copies, so the
  // output ends now (EOF) instead of at drained()'s deadline. attach() does this first too.
  // (A read side the shim holds on an output fifo for a late client stays with its copier:
  // see Copier::hold_reader.)
  void close_child_ends();

  // CloseIO: forwards what the client already wrote, then the process sees EOF on stdin. The
  // client closing its end of the stdin fifo does not: only this does.
  // With a terminal only the copying stops (closing the master would hang up the terminal).
  void close_stdin();
  // ResizePty. Without a terminal it does nothing and succeeds, as with runc's shim; before
  // attach() received the master, the size is kept and applied then.
  Result<void> resize(uint32_t width, uint32_t height);

  // Completes once all output reached containerd's endpoints, or after `max`, whichever is
  // first (also when this object is destroyed meanwhile). "Reached" means: EOF on every output
  // source (every holder of the child's write ends is gone), every byte written to its file,
  // and every fifo read empty by the client (or the client gone): ctr closes its fifos as soon
  // as it sees the exit event, so publish the exit only after this.
  Task<void> drained(std::chrono::milliseconds max);
  bool output_done() const { return outputs_pending_ == 0; }

  // The binary:// logger's pid, or -1 (for diagnostics and tests).
  pid_t logger_pid() const { return logger_ ? logger_->pid() : -1; }

  static constexpr std::chrono::milliseconds kAttachTimeout{10000};

 private:
  ProcessIo(Reactor& reactor, ChildReaper& reaper)
      : reactor_(reactor), reaper_(reaper), wait_(reactor) {}

  Result<void> init(const StdioConfig& config, std::string_view ns, std::string_view id,
                    TerminalMaker maker);
  Result<void> open_own_terminal();
  Result<void> open_stdin(const std::string& path);
  Result<void> open_outputs(const StdioConfig& config, std::string_view ns, std::string_view id);
  Result<void> open_output(const std::string& text, std::unique_ptr<Copier>& copier,
                           UniqueFd& child_end, UniqueFd* shared_dst, const char* name);
  Result<void> start_terminal_copies();
  Result<void> chown_child_ends(uint32_t uid, uint32_t gid);
  std::unique_ptr<Copier> make_output_copier(const char* name, UniqueFd src, UniqueFd dst,
                                             UniqueFd reader_hold = {});
  void output_finished();

  Reactor& reactor_;
  ChildReaper& reaper_;
  ReadableWait wait_;
  bool terminal_ = false;
  bool attached_ = false;
  bool stdin_closed_ = false;

  // A write side of the stdin fifo, so that only CloseIO ends stdin (see open_input_path).
  UniqueFd stdin_writer_hold_;
  UniqueFd child_stdin_;
  UniqueFd child_stdout_;
  UniqueFd child_stderr_;
  std::unique_ptr<Copier> stdin_copier_;
  std::unique_ptr<Copier> stdout_copier_;
  std::unique_ptr<Copier> stderr_copier_;
  std::unique_ptr<BinaryLogger> logger_;

  // Terminal: the endpoints wait here until the master arrives.
  std::unique_ptr<ConsoleSocket> console_;
  UniqueFd master_;
  UniqueFd stdin_src_;
  UniqueFd stdout_dst_;
  UniqueFd stdout_hold_;  // a read side of stdout's fifo, for a client not there yet
  std::optional<std::pair<uint32_t, uint32_t>> pending_size_;  // width, height

  int outputs_pending_ = 0;
  struct DrainWaiter {
    Oneshot<bool> done;
    Reactor::TimerId timer;
  };
  std::vector<DrainWaiter> drain_waiters_;
};

}  // namespace shim::io
