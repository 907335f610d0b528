// The command line and the socket name containerd expects.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <string>

#include "shim/flags.h"
#include "shim/socket_address.h"

namespace shim {
namespace {

TEST(Flags, ContainerdStartLine) {
  const char* argv[] = {"shim", "-namespace", "default", "-address", "/run/containerd/containerd.sock",
                        "-publish-binary", "/usr/bin/containerd", "-id", "c1", "-debug", "start"};
  auto f = parse_flags(11, argv);
  ASSERT_TRUE(f.ok()) << f.error().message();
  EXPECT_EQ(f->ns, "default");
  EXPECT_EQ(f->address, "/run/containerd/containerd.sock");
  EXPECT_EQ(f->publish_binary, "/usr/bin/containerd");
  EXPECT_EQ(f->id, "c1");
  EXPECT_TRUE(f->debug);
  EXPECT_EQ(f->action, "start");
}

TEST(Flags, EqualsFormDoubleDashAndVersion) {
  const char* argv[] = {"shim", "--id=c2", "-bundle=/b", "delete"};
  auto f = parse_flags(4, argv);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->id, "c2");
  EXPECT_EQ(f->bundle, "/b");
  EXPECT_EQ(f->action, "delete");
  const char* v[] = {"shim", "-v"};
  EXPECT_TRUE(parse_flags(2, v)->version);
}

TEST(Flags, Errors) {
  const char* unknown[] = {"shim", "-nope", "x"};
  EXPECT_EQ(parse_flags(3, unknown).error().code(), Code::kInvalidArgument);
  const char* missing[] = {"shim", "-id"};
  EXPECT_FALSE(parse_flags(2, missing).ok());
  const char* extra[] = {"shim", "start", "again"};
  EXPECT_FALSE(parse_flags(3, extra).ok());
}

TEST(SocketAddress, CleanPathLikeGo) {
  EXPECT_EQ(clean_path("/run//containerd/./x/../s"), "/run/containerd/s");
  EXPECT_EQ(clean_path("/../a"), "/a");
  EXPECT_EQ(clean_path("a/../../b"), "../b");
  EXPECT_EQ(clean_path(""), ".");
}

TEST(SocketAddress, MatchesContainerdNaming) {
  // sha256("/run/containerd/containerd.sock/default/c1"), computed with sha256sum.
  EXPECT_EQ(socket_address("/run/containerd/containerd.sock", "default", "c1"),
            "unix:///run/containerd/s/"
            "d25aa4ef11a84e954e74a5bcff06557d0b6ea8d0c00243896f29826694bbd888");
  EXPECT_EQ(socket_path("unix:///run/containerd/s/abc"), "/run/containerd/s/abc");
}

// containerd with its state elsewhere still has its shims listen under /run/containerd/s, which
// then may not exist yet (the client suite's first tests failed "mkdir /run/containerd/s").
TEST(SocketAddress, ListenCreatesMissingFolders) {
  char base[] = "/tmp/shim-listen-XXXXXX";
  ASSERT_NE(::mkdtemp(base), nullptr);
  std::string dir = std::string(base) + "/run/containerd/s";
  auto fd = listen_unix(dir + "/sock");
  ASSERT_TRUE(fd.ok()) << fd.error().message();
  struct stat st;
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((std::string(base) + "/run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0711u);
  EXPECT_TRUE(socket_is_live(dir + "/sock"));
  fd->reset();
  std::string rm = std::string("rm -rf ") + base;
  ASSERT_EQ(std::system(rm.c_str()), 0);
}

}  // namespace
}  // namespace shim
