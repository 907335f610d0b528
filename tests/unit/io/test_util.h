// Shared fixtures for the io tests: a temp dir, a reactor driven until a coroutine or a
// condition completes, and fd helpers.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "reactor/child_reaper.h"
#include "reactor/reactor.h"
#include "reactor/task.h"

namespace shim::io::testing {

class TempDir {
 public:
  TempDir() {
    std::string templ = "/tmp/io-test-XXXXXX";
    path_ = ::mkdtemp(templ.data()) ? templ : "";
  }
  ~TempDir() {
    ::nftw(
        path_.c_str(), [](const char* p, const struct stat*, int, FTW*) { return ::remove(p); }, 16,
        FTW_DEPTH | FTW_PHYS);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline int count_fds() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(d)) n += e->d_name[0] != '.';
  ::closedir(d);
  return n - 1;  // the directory's own fd
}

inline std::string mkfifo_at(const TempDir& dir, const std::string& name) {
  std::string path = dir / name;
  EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0);
  return path;
}

// What the client (ctr) does for an output: open the read side first, without blocking.
inline int open_client_reader(const std::string& path, bool blocking) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (blocking) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

// Appends whatever `fd` (non-blocking) has now; true once it reported EOF.
inline bool read_available(int fd, std::string& out) {
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    return n == 0 || (n < 0 && errno == EIO);
  }
}

inline bool path_exists_for_test(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

inline void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

inline bool hung_up(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
}

struct Loop {
  Loop() {
    ::signal(SIGPIPE, SIG_IGN);  // as the shim does
    reactor = std::move(*Reactor::create());
    reaper = std::move(*ChildReaper::create(*reactor));
  }
  ~Loop() { reaper.reset(); }

  // Runs the reactor until `pred` holds (checked every millisecond) or `timeout` passes.
  bool run_until(std::function<bool()> pred,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool met = pred();
    std::function<void()> check;
    check = [&] {
      met = pred();
      if (met || std::chrono::steady_clock::now() > deadline) {
        reactor->stop();
        return;
      }
      reactor->call_after(std::chrono::milliseconds(1), check);
    };
    if (!met) {
      reactor->call_after(std::chrono::milliseconds(1), check);
      EXPECT_TRUE(reactor->run().ok());
    }
    return met;
  }

  // Runs `task` on the reactor to completion (bounded).
  bool run(Task<void> task, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    auto finished = std::make_shared<bool>(false);
    spawn(run_task(std::move(task), finished));
    return *finished || run_until([&] { return *finished; }, timeout);
  }

  std::unique_ptr<Reactor> reactor;
  std::unique_ptr<ChildReaper> reaper;

 private:
  static Task<void> run_task(Task<void> task, std::shared_ptr<bool> finished) {
    co_await std::move(task);
    *finished = true;
  }
};

}  // namespace shim::io::testing
