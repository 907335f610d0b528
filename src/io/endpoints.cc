#include "io/endpoints.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/file.h"
#include "base/strings.h"

namespace shim::io {

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return errno_error("pipe2");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Result<UniqueFd> open_output_path(const std::string& path, UniqueFd* reader_hold) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return errno_error(str_cat("stat ", path));
  if (S_ISFIFO(st.st_mode)) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd && errno == ENXIO && reader_hold != nullptr) {
      // O_RDWR never waits for a peer (Linux); being a reader ourselves lets the write side
      // open at once, and what is written waits in the fifo for the client.
      reader_hold->reset(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
      if (!*reader_hold) return errno_error(str_cat("open fifo ", path));
      fd.reset(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    }
    if (!fd && errno == ENXIO) {
      return Error(Code::kFailedPrecondition,
                   str_cat("open fifo ", path, ": no reader (the client must open it first)"));
    }
    if (!fd) return errno_error(str_cat("open fifo ", path));
    return fd;
  }
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (!fd) return errno_error(str_cat("open ", path));
  return fd;
}

Result<UniqueFd> open_output_file(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) SHIM_TRY(make_dirs(path.substr(0, slash), 0755));
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) return errno_error(str_cat("open ", path));
  return fd;
}

Result<UniqueFd> open_input_path(const std::string& path, UniqueFd* writer_hold) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return errno_error(str_cat("open ", path));
  struct stat st;
  if (writer_hold != nullptr && ::fstat(fd.get(), &st) == 0 && S_ISFIFO(st.st_mode)) {
    // With a reader open (ours), a non-blocking writer opens at once.
    writer_hold->reset(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    if (!*writer_hold) return errno_error(str_cat("open fifo ", path, " for writing"));
  }
  return fd;
}

Result<UniqueFd> dup_fd(int fd, int min_fd) {
  UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, min_fd));
  if (!copy) return errno_error("dup");
  return copy;
}

}  // namespace shim::io
