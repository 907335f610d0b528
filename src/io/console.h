// The terminal side of a process: the unix socket runsc's --console-socket connects to, the pty
// master it sends back (SCM_RIGHTS), a pty the shim opens itself, and window size changes on a
// master.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"
#include "reactor/reactor.h"
#include "reactor/readable_wait.h"
#include "reactor/task.h"

namespace shim::io {

class ConsoleSocket {
 public:
  // Listens in a fresh private (0700) directory under $TMPDIR, or else under
  // /run/containerd/runsc-console, or else /tmp.
  static Result<std::unique_ptr<ConsoleSocket>> create(Reactor& reactor);
  // Closes the sockets and removes the directory.
  ~ConsoleSocket();

  const std::string& path() const { return path_; }

  // Accepts runsc's connection and reads the pty master from it (non-blocking, CLOEXEC).
  // runsc connects and sends while `runsc create`/`exec` runs; the kernel queues both, so this
  // is called afterwards. Do not destroy the socket while this is pending.
  Task<Result<UniqueFd>> receive_master(std::chrono::milliseconds timeout);

 private:
  ConsoleSocket(Reactor& reactor, std::string dir, std::string path, UniqueFd listener)
      : wait_(reactor),
        dir_(std::move(dir)),
        path_(std::move(path)),
        listener_(std::move(listener)) {}

  ReadableWait wait_;
  std::string dir_;
  std::string path_;
  UniqueFd listener_;
  UniqueFd conn_;
};

// A pty the shim makes itself, for a process whose sandbox takes the replica as its stdio.
struct Pty {
  UniqueFd master;   // non-blocking, CLOEXEC: the shim's side
  UniqueFd replica;  // CLOEXEC, not our controlling terminal: the process's side
};
Result<Pty> open_pty();

// TIOCSWINSZ on a pty master.
Result<void> set_window_size(int master, uint32_t width, uint32_t height);

}  // namespace shim::io
