#include "reactor/path_appearance_watch.h"

#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <tuple>
#include <utility>

#include "base/log.h"
#include "base/strings.h"

namespace shim {
namespace {

// What can make the name appear (a socket is created by bind; a file is renamed into place;
// containerd chmods its socket after listen()), and what makes the directory itself go.
constexpr uint32_t kMask =
    IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR;

std::pair<std::string, std::string> split(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

Result<std::unique_ptr<PathAppearanceWatch>> PathAppearanceWatch::create(
    Reactor& reactor, std::string path, std::function<void()> on_change) {
  UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd) return errno_error("inotify_init1");
  std::unique_ptr<PathAppearanceWatch> watch(
      new PathAppearanceWatch(reactor, std::move(fd), std::move(path), std::move(on_change)));
  SHIM_TRY(watch->arm());
  PathAppearanceWatch* raw = watch.get();
  SHIM_TRY(reactor.add(raw->inotify_.get(), EPOLLIN, [raw](uint32_t) { raw->on_readable(); }));
  return watch;
}

PathAppearanceWatch::~PathAppearanceWatch() { reactor_.remove(inotify_.get()); }

Result<void> PathAppearanceWatch::arm() {
  if (wd_ >= 0) ::inotify_rm_watch(inotify_.get(), wd_);  // its IN_IGNORED is skipped by wd
  wd_ = -1;
  auto [dir, name] = split(path_);
  while (true) {
    int wd = ::inotify_add_watch(inotify_.get(), dir.c_str(), kMask);
    if (wd >= 0) {
      wd_ = wd;
      watched_dir_ = dir;
      expected_name_ = name;
      return ok();
    }
    // Missing (or not a directory yet): wait one level up for it to appear.
    bool missing = errno == ENOENT || errno == ENOTDIR;
    if (!missing || dir == "/" || dir == ".") return errno_error(str_cat("watch ", dir));
    std::tie(dir, name) = split(dir);
  }
}

void PathAppearanceWatch::on_readable() {
  alignas(inotify_event) char buffer[4096];
  bool changed = false;
  bool rearm = false;
  const bool watching_own_dir = watched_dir_ == split(path_).first;
  while (true) {
    ssize_t n = ::read(inotify_.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (char* p = buffer; p < buffer + n;) {
      auto* event = reinterpret_cast<inotify_event*>(p);
      p += sizeof(inotify_event) + event->len;
      if (event->mask & IN_Q_OVERFLOW) {  // names were lost: look again from scratch
        changed = rearm = true;
        continue;
      }
      if (event->wd != wd_) continue;  // a watch we already replaced
      if (event->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        changed = rearm = true;  // the folder went; something may take its place
      } else if (event->len > 0 && expected_name_ == event->name) {
        changed = true;
        rearm |= !watching_own_dir;  // a missing folder appeared: watch further down
      }
    }
  }
  if (rearm) {
    if (auto r = arm(); !r) log::warn("path watch for ", path_, ": ", r.error().message());
  }
  if (changed && on_change_) {
    auto callback = on_change_;  // the owner may destroy us from inside it
    callback();
  }
}

}  // namespace shim
