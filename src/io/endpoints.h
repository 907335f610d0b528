// Opening containerd's side of a process's stdio (fifos the client already opened, files) and
// the pipes whose other ends go to runsc. Nothing here blocks: fifos are opened O_NONBLOCK.
#pragma once

#include <string>

#include "base/error.h"
#include "base/unique_fd.h"

namespace shim::io {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

// pipe2(O_CLOEXEC). Both ends stay blocking: the child's end must be (runsc hands it to the
// container as is), and the shim's end is made non-blocking by its Copier.
Result<Pipe> make_pipe();

// An output endpoint given as a path: a fifo is opened for writing without blocking, anything
// else is appended to, as containerd does. containerd's client opens its read side from a
// goroutine, so it can still be missing: then, if `reader_hold` is given, the shim holds a read
// side itself (returned there) until the client has had time to arrive (its copier lets it go:
// Copier::hold_reader); without `reader_hold` that is an error.
Result<UniqueFd> open_output_path(const std::string& path, UniqueFd* reader_hold = nullptr);
// file:// output: parent directories and the file are created as needed, appended to.
Result<UniqueFd> open_output_file(const std::string& path);
// The stdin endpoint: O_RDONLY | O_NONBLOCK, which never waits for the client's writer. For a
// fifo, `writer_hold` (if given) gets a write side of it: while the shim holds that, a client
// that closes its writer (a detaching `ctr task attach`, a Go client whose stdin reader hit
// EOF) does not end the process's stdin; only CloseIO does, as with runc's shim.
Result<UniqueFd> open_input_path(const std::string& path, UniqueFd* writer_hold = nullptr);

// Another fd for the same open file, with CLOEXEC, numbered at least `min_fd`.
Result<UniqueFd> dup_fd(int fd, int min_fd = 0);

}  // namespace shim::io
