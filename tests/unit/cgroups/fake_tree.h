// A directory of plain files laid out like a cgroup hierarchy, removed when the test ends.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace shim::testing {

class FakeTree {
 public:
  FakeTree() {
    char tmpl[] = "/tmp/cgroups-test.XXXXXX";
    root_ = ::mkdtemp(tmpl);
  }
  ~FakeTree() { std::filesystem::remove_all(root_); }
  FakeTree(const FakeTree&) = delete;
  FakeTree& operator=(const FakeTree&) = delete;

  const std::string& root() const { return root_; }
  std::string path(std::string_view rel) const { return root_ + "/" + std::string(rel); }

  void write(std::string_view rel, std::string_view content) const {
    std::filesystem::path p = path(rel);
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::trunc) << content;
  }
  std::string read(std::string_view rel) const {
    std::ifstream in(path(rel));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool exists(std::string_view rel) const { return std::filesystem::exists(path(rel)); }

 private:
  std::string root_;
};

}  // namespace shim::testing
