// Tells, on the reactor, when something may have appeared at a path that does not exist or
// does not answer yet: the event publisher waits this way for containerd's socket to come
// back. inotify watches the path's directory for the name (created, renamed into place, its
// attributes changed); when the directory itself is missing, the nearest existing ancestor is
// watched for the next component, and the watch moves down as the folders appear.
//
// A notification is a hint, not a promise: the caller looks (dials) and waits again if it
// was not what it hoped for.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"
#include "reactor/reactor.h"

namespace shim {

class PathAppearanceWatch {
 public:
  // `path` should be absolute. Fails only if inotify itself does ("/" always exists to be
  // watched). `on_change` may destroy the watch.
  static Result<std::unique_ptr<PathAppearanceWatch>> create(Reactor& reactor, std::string path,
                                                             std::function<void()> on_change);
  ~PathAppearanceWatch();
  PathAppearanceWatch(const PathAppearanceWatch&) = delete;
  PathAppearanceWatch& operator=(const PathAppearanceWatch&) = delete;

  // The directory watched now (the path's own, or an ancestor while that is missing).
  const std::string& watched_dir() const { return watched_dir_; }

 private:
  PathAppearanceWatch(Reactor& reactor, UniqueFd inotify, std::string path,
                      std::function<void()> on_change)
      : reactor_(reactor),
        inotify_(std::move(inotify)),
        path_(std::move(path)),
        on_change_(std::move(on_change)) {}
  // Watches the deepest existing directory on the way to path_.
  Result<void> arm();
  void on_readable();

  Reactor& reactor_;
  UniqueFd inotify_;
  std::string path_;
  std::function<void()> on_change_;
  int wd_ = -1;
  std::string watched_dir_;
  std::string expected_name_;  // the component of path_ that would appear in watched_dir_
};

}  // namespace shim
