#include "shim/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "base/file.h"
#include "base/idle_memory.h"
#include "base/log.h"
#include "base/strings.h"
#include "events/publisher.h"
#include "reactor/child_reaper.h"
#include "reactor/command.h"
#include "reactor/reactor.h"
#include "service/task_service.h"
#include "ttrpc/server.h"

namespace shim {
namespace {

using namespace std::chrono_literals;

constexpr auto kIdleTrimDelay = 1000ms;

// containerd opened the bundle's `log` fifo for reading before it ran `start`; without a
// reader, O_RDWR still opens it without blocking (Linux) and lines are dropped, not queued.
UniqueFd open_log_fifo(const std::string& bundle) {
  std::string path = bundle + "/log";
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd && errno == ENXIO) fd.reset(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  return fd;
}

// The shim should die before containerd under memory pressure, as containerd's own shims
// do: containerd's score plus one. Lowering can fail without CAP_SYS_RESOURCE.
void follow_oom_score(pid_t containerd_pid) {
  if (containerd_pid <= 1) return;
  auto score_text = read_file(str_cat("/proc/", containerd_pid, "/oom_score_adj"));
  int score = 0;
  if (!score_text || !parse_int(trim(*score_text), score)) return;
  int ours = score >= 1000 ? 1000 : score + 1;
  std::string text = std::to_string(ours);
  UniqueFd fd(::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), text.data(), text.size()) < 0) {
    log::warn("set oom_score_adj to ", ours, ": ", std::strerror(errno));
  }
}

// User plus system time of this process: what the shim itself cost (bench/run.py reads it).
std::string cpu_time_text() {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return "unknown";
  long micros = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000L +
                usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
  return str_cat(micros / 1000, ".", micros % 1000 / 100, " ms");
}

Task<void> flush_and_stop(Reactor& reactor, ttrpc::Server& server,
                          events::EventPublisher& publisher) {
  server.stop_accepting();
  co_await publisher.flush(2000ms);
  reactor.stop();
}

// SIGTERM and SIGINT end an idle shim; a shim with containers ignores them (containerd
// cleans up through `delete`).
Result<UniqueFd> watch_termination(Reactor& reactor, TaskService& service,
                                   std::function<void()> stop) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return errno_error("block SIGTERM");
  UniqueFd fd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) return errno_error("signalfd");
  int raw = fd.get();
  auto added = reactor.add(raw, EPOLLIN, [raw, &service, stop](uint32_t) {
    signalfd_siginfo info;
    while (::read(raw, &info, sizeof info) == sizeof info) {
    }
    if (service.container_count() == 0) {
      log::info("terminated with no containers: exiting");
      stop();
    } else {
      log::warn("ignoring termination signal: ", service.container_count(), " containers live");
    }
  });
  if (!added) return std::move(added).error();
  return fd;
}

}  // namespace

int run_daemon(DaemonOptions options, UniqueFd listener) {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::signal(SIGPIPE, SIG_IGN);
  UniqueFd log_fd = open_log_fifo(options.bundle);
  log::set_output(log_fd ? log_fd.get() : -1);
  log::set_level(options.flags.debug ? log::Level::kDebug : log::Level::kInfo);
  follow_oom_score(options.containerd_pid);

  auto reactor = Reactor::create();
  if (!reactor) return 1;
  auto reaper = ChildReaper::create(**reactor);
  if (!reaper) {
    log::error(reaper.error().message());
    return 1;
  }
  CommandRunner runner(**reactor, **reaper);
  const char* ttrpc_address = std::getenv("TTRPC_ADDRESS");
  events::EventPublisher publisher(**reactor, ttrpc_address ? ttrpc_address : "");
  ttrpc::Server server(**reactor);

  bool stopping = false;
  auto stop = [&] {
    if (stopping) return;
    stopping = true;
    spawn(flush_and_stop(**reactor, server, publisher));
  };
  TaskService service(
      ServiceContext{**reactor, **reaper, runner, publisher, options.flags.ns, stop});
  service.register_methods(server);
  auto termination = watch_termination(**reactor, service, stop);
  if (!termination) log::warn(termination.error().message());
  if (auto r = server.serve(std::move(listener)); !r) {
    log::error("serve: ", r.error().message());
    return 1;
  }
  // Between bursts of calls the shim holds only what it needs to wait (measured: idle RSS
  // about 2.1 MB before, see bench/).
  (*reactor)->set_idle_action(kIdleTrimDelay, release_idle_memory);
  log::info("shim serving on ", options.socket_path, " for ", options.flags.ns, "/",
            options.flags.id);
  auto ran = (*reactor)->run();
  ::unlink(options.socket_path.c_str());
  if (!ran) {
    log::error(ran.error().message());
    return 1;
  }
  log::info("shim for ", options.flags.ns, "/", options.flags.id, " exiting after ",
            cpu_time_text(), " of CPU");
  return 0;
}

}  // namespace shim
