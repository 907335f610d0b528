// Errors, strings, files and the SHA-256 used for socket names.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "base/error.h"
#include "base/file.h"
#include "base/sha256.h"
#include "base/strings.h"

namespace shim {
namespace {

TEST(Error, WrapKeepsCodeAndPrefixesContext) {
  Error e(Code::kNotFound, "no such container");
  Error wrapped = e.wrap("kill c1");
  EXPECT_EQ(wrapped.code(), Code::kNotFound);
  EXPECT_EQ(wrapped.message(), "kill c1: no such container");
}

TEST(Error, ErrnoMapsToCodes) {
  EXPECT_EQ(errno_error("open x", ENOENT).code(), Code::kNotFound);
  EXPECT_EQ(errno_error("open x", EEXIST).code(), Code::kAlreadyExists);
  EXPECT_EQ(errno_error("connect", ECONNREFUSED).code(), Code::kUnavailable);
  EXPECT_EQ(errno_error("open x", ENOENT).message(), "open x: No such file or directory");
}

Result<int> half(int v) {
  if (v % 2) return Error(Code::kInvalidArgument, "odd");
  return v / 2;
}

Result<void> quarter(int v, int& out) {
  auto h = half(v);
  SHIM_TRY(h);
  auto q = half(*h);
  SHIM_TRY(q);
  out = *q;
  return ok();
}

TEST(Result, TryPropagatesTheFirstError) {
  int out = 0;
  EXPECT_TRUE(quarter(8, out).ok());
  EXPECT_EQ(out, 2);
  auto r = quarter(6, out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
}

TEST(Strings, CatSplitTrimParse) {
  EXPECT_EQ(str_cat("pid ", 42, " code ", -7, ' ', true), "pid 42 code -7 true");
  auto parts = split("a,,b", ',');
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[2], "b");
  EXPECT_EQ(trim("  x y \n"), "x y");
  int v = 0;
  EXPECT_TRUE(parse_int("123", v));
  EXPECT_EQ(v, 123);
  EXPECT_FALSE(parse_int("12x", v));
  EXPECT_FALSE(parse_int("", v));
  EXPECT_FALSE(parse_int("99999999999", v));
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Two blocks: 56 bytes forces the length into a second block.
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(File, AtomicWriteThenRead) {
  char dir[] = "/tmp/shim-file-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/address";
  ASSERT_TRUE(write_file_atomic(path, "unix:///x").ok());
  auto text = read_file(path);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "unix:///x");
  EXPECT_TRUE(path_exists(path));
  EXPECT_EQ(read_file(path + ".missing").error().code(), Code::kNotFound);
  ::unlink(path.c_str());
  ::rmdir(dir);
}

}  // namespace
}  // namespace shim
