#include "reactor/child_reaper.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "base/log.h"

namespace shim {

ExitStatus ExitStatus::from_wait_status(int status) {
  if (WIFSIGNALED(status)) return now(128 + WTERMSIG(status));
  return now(WIFEXITED(status) ? WEXITSTATUS(status) : 0);
}

ExitStatus ExitStatus::now(int code) {
  ExitStatus s;
  s.code = code;
  clock_gettime(CLOCK_REALTIME, &s.at);
  return s;
}

Result<std::unique_ptr<ChildReaper>> ChildReaper::create(Reactor& reactor) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return errno_error("block SIGCHLD");
  UniqueFd fd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) return errno_error("signalfd");
  std::unique_ptr<ChildReaper> reaper(new ChildReaper(reactor, std::move(fd)));
  ChildReaper* self = reaper.get();
  auto added = reactor.add(self->signal_fd_.get(), EPOLLIN, [self](uint32_t) {
    signalfd_siginfo info;
    // Drain: several SIGCHLDs collapse into one; waitpid below finds every child.
    while (::read(self->signal_fd_.get(), &info, sizeof info) == sizeof info) {
    }
    self->reap_ready();
  });
  if (!added) return std::move(added).error();
  return reaper;
}

ChildReaper::~ChildReaper() { reactor_.remove(signal_fd_.get()); }

void ChildReaper::reap_ready() {
  while (true) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;  // 0: none ready; -1 ECHILD: no children
    ExitStatus exit = ExitStatus::from_wait_status(status);
    auto it = watches_.find(pid);
    if (it == watches_.end()) {
      log::debug("reaped unwatched pid ", pid, " status ", exit.code);
      unclaimed_.emplace_back(pid, exit);
      if (unclaimed_.size() > kMaxUnclaimed) unclaimed_.pop_front();
      continue;
    }
    auto callback = std::move(it->second);
    watches_.erase(it);
    callback(exit);
  }
}

void ChildReaper::on_exit(pid_t pid, ExitCallback callback) {
  for (auto it = unclaimed_.begin(); it != unclaimed_.end(); ++it) {
    if (it->first == pid) {
      ExitStatus exit = it->second;
      unclaimed_.erase(it);
      reactor_.post([callback = std::move(callback), exit] { callback(exit); });
      return;
    }
  }
  watches_[pid] = std::move(callback);
}

Oneshot<ExitStatus> ChildReaper::exited(pid_t pid) {
  Oneshot<ExitStatus> result;
  on_exit(pid, [result](ExitStatus s) { result.set(s); });
  return result;
}

void ChildReaper::forget(pid_t pid) { watches_.erase(pid); }

}  // namespace shim
