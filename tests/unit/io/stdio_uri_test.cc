#include "io/stdio_uri.h"

#include <gtest/gtest.h>

namespace shim::io {
namespace {

TEST(StdioUri, EmptyIsNull) {
  auto uri = parse_stdio_uri("");
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(uri->kind, StdioKind::kNull);
}

TEST(StdioUri, PlainPathsAreFifosOrFiles) {
  for (const char* text : {"/run/containerd/fifo/1/c1-stdout", "/odd:name", "relative/path"}) {
    auto uri = parse_stdio_uri(text);
    ASSERT_TRUE(uri.ok()) << text;
    EXPECT_EQ(uri->kind, StdioKind::kPath) << text;
    EXPECT_EQ(uri->path, text);
  }
  auto fifo = parse_stdio_uri("fifo:///run/x");
  ASSERT_TRUE(fifo.ok());
  EXPECT_EQ(fifo->kind, StdioKind::kPath);
  EXPECT_EQ(fifo->path, "/run/x");
}

TEST(StdioUri, FileUri) {
  auto uri = parse_stdio_uri("file:///var/log/my%20app/out.log");
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(uri->kind, StdioKind::kFile);
  EXPECT_EQ(uri->path, "/var/log/my app/out.log");

  auto local = parse_stdio_uri("file://localhost/a+b");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->path, "/a+b");  // '+' is literal in a path

  auto opaque = parse_stdio_uri("file:/x");
  ASSERT_TRUE(opaque.ok());
  EXPECT_EQ(opaque->path, "/x");
}

TEST(StdioUri, BinaryUriKeepsArgsInOrder) {
  auto uri = parse_stdio_uri("binary:///usr/bin/logger?id=a%26b&mode=x+y&id=ignored&flag");
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(uri->kind, StdioKind::kBinary);
  EXPECT_EQ(uri->path, "/usr/bin/logger");
  std::vector<std::string> want = {"id", "a&b", "mode", "x y", "flag", ""};
  EXPECT_EQ(uri->args, want);

  auto bare = parse_stdio_uri("binary:///bin/logger#frag");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->path, "/bin/logger");
  EXPECT_TRUE(bare->args.empty());
}

TEST(StdioUri, Rejects) {
  for (const char* text : {"http://example.com/x", "file://host/x", "file://relative",
                           "binary:///x?a=%zz", "file:///bad%2", "syslog:///x"}) {
    auto uri = parse_stdio_uri(text);
    ASSERT_FALSE(uri.ok()) << text;
    EXPECT_EQ(uri.error().code(), Code::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace shim::io
