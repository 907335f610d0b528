#include "process/rootfs_path.h"

#include <unistd.h>

#include <cerrno>
#include <deque>
#include <vector>

#include "base/strings.h"

namespace shim {
namespace {

constexpr int kMaxSymlinks = 40;  // as Linux's ELOOP limit

void push_parts(std::deque<std::string>& todo, std::string_view path, bool front) {
  std::vector<std::string> parts;
  for (std::string_view p : split(path, '/')) {
    if (!p.empty() && p != ".") parts.emplace_back(p);
  }
  if (front) {
    todo.insert(todo.begin(), parts.begin(), parts.end());
  } else {
    todo.insert(todo.end(), parts.begin(), parts.end());
  }
}

}  // namespace

RootfsWalk walk_in_rootfs(const std::string& rootfs, std::string_view path,
                          const std::function<bool(const std::string&)>& stop_at, bool create) {
  using Outcome = RootfsWalk::Outcome;
  RootfsWalk walk;
  std::deque<std::string> todo;
  push_parts(todo, path, false);
  int links = 0;
  auto finish = [&](Outcome outcome) {
    walk.outcome = outcome;
    walk.host_path = rootfs + walk.container_path;
    return walk;
  };
  if (::lstat(rootfs.c_str(), &walk.st) != 0) return finish(Outcome::kMissing);
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == "..") {
      walk.container_path.erase(walk.container_path.empty() ? 0 : walk.container_path.rfind('/'));
      continue;
    }
    std::string next = str_cat(walk.container_path, "/", part);
    if (stop_at && stop_at(next)) {
      walk.container_path = std::move(next);
      return finish(Outcome::kStopped);
    }
    std::string host = rootfs + next;
    struct stat st;
    if (::lstat(host.c_str(), &st) != 0) {
      if (errno != ENOENT || !create) return finish(Outcome::kMissing);
      if (::mkdir(host.c_str(), 0755) != 0 || ::lstat(host.c_str(), &st) != 0) {
        return finish(Outcome::kMissing);
      }
    }
    if (S_ISLNK(st.st_mode)) {
      if (++links > kMaxSymlinks) return finish(Outcome::kStopped);
      char target[4096];
      ssize_t n = ::readlink(host.c_str(), target, sizeof target);
      if (n <= 0 || n == static_cast<ssize_t>(sizeof target)) return finish(Outcome::kStopped);
      std::string_view link(target, static_cast<size_t>(n));
      if (link.starts_with('/')) walk.container_path.clear();
      push_parts(todo, link, true);
      continue;
    }
    if (!todo.empty() && !S_ISDIR(st.st_mode)) return finish(Outcome::kMissing);
    walk.container_path = std::move(next);
    walk.st = st;
  }
  return finish(Outcome::kFound);
}

}  // namespace shim
