// Tells, on the reactor, when a file has been written: closed after writing, or renamed into
// place (inotify on its directory). The shim learns this way that a foreground `runsc exec`
// has started its process, which runsc announces by writing its pid file.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/error.h"
#include "base/unique_fd.h"
#include "reactor/reactor.h"

namespace shim {

class FileWrittenWatch {
 public:
  // Watches `path`'s directory for `path`. Create it before whatever writes the file starts.
  static Result<std::unique_ptr<FileWrittenWatch>> create(Reactor& reactor, std::string path);
  ~FileWrittenWatch();
  FileWrittenWatch(const FileWrittenWatch&) = delete;
  FileWrittenWatch& operator=(const FileWrittenWatch&) = delete;

  // Runs `callback` at each write of the file from now on; an empty one stops that.
  void notify(std::function<void()> callback) { callback_ = std::move(callback); }

 private:
  FileWrittenWatch(Reactor& reactor, UniqueFd inotify, std::string name)
      : reactor_(reactor), inotify_(std::move(inotify)), name_(std::move(name)) {}
  void on_readable();

  Reactor& reactor_;
  UniqueFd inotify_;
  std::string name_;  // the file's name within the watched directory
  std::function<void()> callback_;
};

}  // namespace shim
