#include "cgroups/oom_watcher.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "base/log.h"
#include "base/strings.h"
#include "cgroups/cgroup_files.h"

namespace shim {

Result<std::unique_ptr<OomWatcher>> OomWatcher::watch(Reactor& reactor, const Cgroup& cgroup,
                                                      std::function<void()> on_oom) {
  const bool v1 = cgroup.version() == Cgroup::Version::kV1;
  const std::string& dir = cgroup.memory_dir();
  if (dir.empty()) return Error(Code::kFailedPrecondition, "no memory cgroup to watch for OOM");
  std::string counter = str_cat(dir, v1 ? "/memory.oom_control" : "/memory.events");
  std::unique_ptr<OomWatcher> w(
      new OomWatcher(reactor, cgroup.version(), counter, std::move(on_oom)));
  // The baseline: kills before the watch are not this watcher's to report.
  auto values = cgroups::read_keyed(counter);
  if (!values) return std::move(values).error().wrap("oom watch");
  w->last_count_ = cgroups::lookup(*values, "oom_kill");
  SHIM_TRY(v1 ? w->register_v1(dir) : w->register_v2());
  SHIM_TRY(
      reactor.add(w->notify_fd_.get(), EPOLLIN, [raw = w.get()](uint32_t) { raw->on_readable(); }));
  w->watching_ = true;
  return w;
}

Result<void> OomWatcher::register_v1(const std::string& memory_dir) {
  notify_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!notify_fd_) return errno_error("eventfd");
  oom_control_.reset(::open(counter_file_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!oom_control_) return errno_error(str_cat("open ", counter_file_));
  auto r = cgroups::write_value(str_cat(memory_dir, "/cgroup.event_control"),
                                str_cat(notify_fd_.get(), " ", oom_control_.get()));
  if (!r) return std::move(r).error().wrap("register oom eventfd");
  return ok();
}

Result<void> OomWatcher::register_v2() {
  notify_fd_.reset(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!notify_fd_) return errno_error("inotify_init1");
  if (::inotify_add_watch(notify_fd_.get(), counter_file_.c_str(), IN_MODIFY) < 0) {
    return errno_error(str_cat("inotify_add_watch ", counter_file_));
  }
  return ok();
}

OomWatcher::~OomWatcher() {
  for (auto id : rechecks_) reactor_.cancel(id);
  stop_watching();
}

void OomWatcher::stop_watching() {
  if (watching_) reactor_.remove(notify_fd_.get());
  watching_ = false;
}

bool OomWatcher::check_now() {
  auto values = cgroups::read_keyed(counter_file_);
  if (!values) return false;  // the cgroup is gone: whatever happened, it was not seen
  uint64_t count = cgroups::lookup(*values, "oom_kill");
  if (count <= last_count_) return false;
  log::info("oom: ", counter_file_, " oom_kill ", last_count_, " -> ", count);
  last_count_ = count;
  on_oom_();
  return true;
}

void OomWatcher::on_readable() {
  // Drain first: both fds stay readable until read. An inotify IN_IGNORED means the file (so
  // the cgroup) went away; v1's eventfd also fires on removal, which check_now() tells apart.
  bool gone = false;
  char buf[4096] __attribute__((aligned(alignof(struct inotify_event))));
  while (true) {
    ssize_t n = ::read(notify_fd_.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (version_ == Cgroup::Version::kV2) {
      for (ssize_t off = 0; off < n;) {
        auto* ev = reinterpret_cast<const struct inotify_event*>(buf + off);
        if (ev->mask & IN_IGNORED) gone = true;
        off += static_cast<ssize_t>(sizeof(struct inotify_event) + ev->len);
      }
    }
  }
  if (check_now()) return;  // on_oom ran; touch nothing more
  if (gone || !cgroups::read_keyed(counter_file_)) {
    stop_watching();
    return;
  }
  if (version_ == Cgroup::Version::kV1) {
    // v1 signals the eventfd when the OOM starts, before the victim is killed and oom_kill
    // counted; look again shortly (v2 gets a second inotify event for the kill itself).
    using std::chrono::milliseconds;
    log::debug("oom: ", counter_file_, " signalled, oom_kill not grown yet: rechecking");
    for (auto id : rechecks_) reactor_.cancel(id);
    rechecks_.clear();
    for (int delay : {5, 20, 100, 500}) {
      rechecks_.push_back(reactor_.call_after(milliseconds(delay), [this] { check_now(); }));
    }
  }
}

}  // namespace shim
