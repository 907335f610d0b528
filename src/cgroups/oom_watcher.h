// Tells the shim when the kernel OOM-killed something in a sandbox's memory cgroup, so it can
// publish /tasks/oom before the exit. v1: an eventfd registered through cgroup.event_control;
// v2: inotify on memory.events. Either way an OOM is reported only when the oom_kill counter
// grew, because v1 also signals when the cgroup is removed and v2 on every memory event.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "cgroups/cgroup.h"
#include "reactor/reactor.h"

namespace shim {

class OomWatcher {
 public:
  // Starts watching; the cgroup need not outlive the watcher. `on_oom` runs on the reactor,
  // once per look that finds the counter grown; it must not destroy the watcher.
  static Result<std::unique_ptr<OomWatcher>> watch(Reactor& reactor, const Cgroup& cgroup,
                                                   std::function<void()> on_oom);
  ~OomWatcher();
  OomWatcher(const OomWatcher&) = delete;
  OomWatcher& operator=(const OomWatcher&) = delete;

  // Re-reads the counter and runs on_oom if it grew since the last look; true if it did. For
  // exit time: the process's exit and the OOM notification race.
  bool check_now();

  // The oom_kill count as of the last look.
  uint64_t oom_kills() const { return last_count_; }

 private:
  OomWatcher(Reactor& reactor, Cgroup::Version version, std::string counter_file,
             std::function<void()> on_oom)
      : reactor_(reactor),
        version_(version),
        counter_file_(std::move(counter_file)),
        on_oom_(std::move(on_oom)) {}
  Result<void> register_v1(const std::string& memory_dir);
  Result<void> register_v2();
  void on_readable();
  void stop_watching();

  Reactor& reactor_;
  Cgroup::Version version_;
  std::string counter_file_;  // v1 memory.oom_control, v2 memory.events: both hold "oom_kill N"
  std::function<void()> on_oom_;
  UniqueFd notify_fd_;    // the eventfd (v1) or the inotify instance (v2)
  UniqueFd oom_control_;  // v1: the file the eventfd is registered against
  bool watching_ = false;
  uint64_t last_count_ = 0;
  std::vector<Reactor::TimerId> rechecks_;
};

}  // namespace shim
