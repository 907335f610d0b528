#include "reactor/file_written_watch.h"

#include <sys/epoll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/strings.h"

namespace shim {

Result<std::unique_ptr<FileWrittenWatch>> FileWrittenWatch::create(Reactor& reactor,
                                                                   std::string path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd) return errno_error("inotify_init1");
  if (::inotify_add_watch(fd.get(), dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
    return errno_error(str_cat("watch ", dir));
  }
  std::unique_ptr<FileWrittenWatch> watch(new FileWrittenWatch(reactor, std::move(fd), name));
  FileWrittenWatch* raw = watch.get();
  SHIM_TRY(reactor.add(raw->inotify_.get(), EPOLLIN, [raw](uint32_t) { raw->on_readable(); }));
  return watch;
}

FileWrittenWatch::~FileWrittenWatch() { reactor_.remove(inotify_.get()); }

void FileWrittenWatch::on_readable() {
  alignas(inotify_event) char buffer[4096];
  bool written = false;
  while (true) {
    ssize_t n = ::read(inotify_.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (char* p = buffer; p < buffer + n;) {
      auto* event = reinterpret_cast<inotify_event*>(p);
      // A queue overflow loses names: count it as a write, the caller looks at the file.
      if ((event->mask & IN_Q_OVERFLOW) || (event->len > 0 && name_ == event->name)) {
        written = true;
      }
      p += sizeof(inotify_event) + event->len;
    }
  }
  if (written && callback_) {
    auto callback = callback_;  // it may replace itself
    callback();
  }
}

}  // namespace shim
