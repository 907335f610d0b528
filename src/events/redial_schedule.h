// When the event publisher dials containerd again after a dial failed. Not on a timer: the
// moment containerd's ttrpc socket (re)appears (inotify on its folder), then a few times in
// quick succession, because containerd creates the socket with bind() a moment before it
// listen()s and the first dial may be refused. A slow safety-net timer covers what inotify
// cannot see (a socket made in another mount namespace); an idle shim waiting out a long
// outage wakes only for that.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reactor/path_appearance_watch.h"
#include "reactor/reactor.h"
#include "reactor/task.h"

namespace shim::events {

class RedialSchedule {
 public:
  struct Options {
    // Dials after a sign of life, each this long after the refused one before it: 88 ms in
    // all, so a containerd that takes a little to listen is still reached within 100 ms.
    std::vector<std::chrono::milliseconds> burst{
        std::chrono::milliseconds(1),  std::chrono::milliseconds(2),
        std::chrono::milliseconds(5),  std::chrono::milliseconds(10),
        std::chrono::milliseconds(20), std::chrono::milliseconds(50)};
    std::chrono::milliseconds safety_initial{5000};  // doubles per silent wait, up to max
    std::chrono::milliseconds safety_max{30000};
  };

  // `socket_path`: where containerd listens (no unix:// prefix).
  RedialSchedule(Reactor& reactor, std::string socket_path, Options options);
  ~RedialSchedule() { cancel(); }
  RedialSchedule(const RedialSchedule&) = delete;
  RedialSchedule& operator=(const RedialSchedule&) = delete;

  // After a failed dial: completes (true) when the next dial is due. At once the first time
  // of an outage, since the socket may have appeared before the watch was armed.
  Oneshot<bool> next();
  // The dial worked: stop watching; the next outage starts over.
  void connected();
  // Completes a pending next() with false and stops watching.
  void cancel();

  // For tests: whether inotify is watching, and which folder.
  bool watching() const { return watch_ != nullptr; }
  std::string watched_dir() const { return watch_ ? watch_->watched_dir() : std::string(); }

 private:
  void on_sign_of_life();
  void complete(bool due);
  void cancel_timer();

  Reactor& reactor_;
  std::string socket_path_;
  Options options_;
  std::unique_ptr<PathAppearanceWatch> watch_;
  bool watch_failed_logged_ = false;
  bool sign_of_life_ = false;  // seen since the last dial
  size_t burst_next_ = 0;      // index into options_.burst; past the end: no burst running
  std::chrono::milliseconds safety_delay_;
  std::optional<Oneshot<bool>> pending_;
  Reactor::TimerId timer_ = 0;
};

}  // namespace shim::events
