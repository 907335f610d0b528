#include "reactor/command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>

#include "base/strings.h"
#include "base/unique_fd.h"

namespace shim {
namespace {

// Reads whatever is in a non-blocking fd now; returns false at EOF or error.
bool drain(int fd, std::string& out) {
  char buf[16384];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

}  // namespace

Task<Result<CommandResult>> CommandRunner::run(CommandOptions options) {
  UniqueFd read_end, write_end;
  if (options.capture_stdout) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) co_return errno_error("pipe");
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
    options.spawn.stdout_fd = write_end.get();
  }
  auto pid = spawn_process(options.spawn);
  if (!pid) co_return std::move(pid).error();
  // Registered before the first suspension, so the exit cannot be missed.
  Oneshot<ExitStatus> exited = reaper_.exited(*pid);
  write_end.reset();

  auto output = std::make_shared<std::string>();
  if (read_end) {
    int fd = read_end.get();
    auto r = reactor_.add(fd, EPOLLIN, [this, fd, output](uint32_t) {
      if (!drain(fd, *output)) reactor_.remove(fd);
    });
    if (!r) read_end.reset();
  }

  bool timed_out = false;
  pid_t child = *pid;
  auto timer = reactor_.call_after(options.timeout, [child, &timed_out] {
    timed_out = true;
    ::kill(child, SIGKILL);
  });
  ExitStatus status = co_await exited;
  reactor_.cancel(timer);
  if (read_end) {
    drain(read_end.get(), *output);
    reactor_.remove(read_end.get());
  }
  co_return CommandResult{status, std::move(*output), timed_out};
}

}  // namespace shim
