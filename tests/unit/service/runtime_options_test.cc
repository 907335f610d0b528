// The runtime option types containerd sends: ours (runtimeoptions.v1) and runc's two.
#include "service/runtime_options.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>

#include "github.com/containerd/containerd/pkg/runtimeoptions/v1/api.pb.h"
#include "github.com/containerd/containerd/runtime/linux/runctypes/runc.pb.h"
#include "github.com/containerd/containerd/runtime/v2/runc/options/oci.pb.h"

namespace shim {
namespace {

using Any = pb::google::protobuf::Any;

Any any_of(std::string type, std::string value) {
  Any a;
  a.type_url = std::move(type);
  a.value = std::move(value);
  return a;
}

TEST(RuntimeOptions, NoneGiveTheDefaults) {
  auto none = decode_runtime_options(std::nullopt);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->config_path.empty());
  EXPECT_FALSE(none->chowns_io());
  EXPECT_TRUE(decode_runtime_options(any_of("whatever", "")).ok());  // empty value
}

TEST(RuntimeOptions, OursWithOrWithoutTypeUrl) {
  pb::runtimeoptions::v1::Options o;
  o.config_path = "/etc/containerd/runsc.toml";
  for (const char* type :
       {"", "runtimeoptions.v1.Options", "type.googleapis.com/runtimeoptions.v1.Options"}) {
    auto r = decode_runtime_options(any_of(type, o.encode()));
    ASSERT_TRUE(r.ok()) << type << ": " << r.error().message();
    EXPECT_EQ(r->config_path, "/etc/containerd/runsc.toml");
  }
}

TEST(RuntimeOptions, RuncCreateOptions) {
  pb::containerd::linux::runc::CreateOptions o;
  o.io_uid = 1000;
  o.io_gid = 2000;
  o.shim_cgroup = "/containerd/shim";
  o.no_pivot_root = true;  // runc-only: ignored
  auto r = decode_runtime_options(any_of("containerd.linux.runc.CreateOptions", o.encode()));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->io_uid, 1000u);
  EXPECT_EQ(r->io_gid, 2000u);
  EXPECT_TRUE(r->chowns_io());
  EXPECT_EQ(r->shim_cgroup, "/containerd/shim");
  EXPECT_TRUE(r->config_path.empty());
}

TEST(RuntimeOptions, RuncV1OptionsOverrideBinaryAndRoot) {
  pb::containerd::runc::v1::Options o;
  o.binary_name = "/opt/runsc";
  o.root = "/tmp/runsc-root";
  o.systemd_cgroup = true;
  o.criu_path = "/usr/sbin/criu";  // runc-only: ignored
  auto r =
      decode_runtime_options(any_of("type.googleapis.com/containerd.runc.v1.Options", o.encode()));
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->binary_name, "/opt/runsc");
  EXPECT_EQ(r->root, "/tmp/runsc-root");
  EXPECT_TRUE(r->systemd_cgroup);

  // The TOML's values give way to the options'; systemd cgroups become runsc's flag.
  char path[] = "/tmp/runsc-toml-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path)
      << "binary_name = \"runsc\"\nroot = \"/run/x\"\n[runsc_config]\nnetwork = \"none\"\n";
  r->config_path = path;
  auto config = shim_config_for(*r);
  ::unlink(path);
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->binary_name, "/opt/runsc");
  EXPECT_EQ(config->root, "/tmp/runsc-root");
  EXPECT_EQ(config->runsc_flags, (std::vector<std::pair<std::string, std::string>>{
                                     {"network", "none"}, {"systemd-cgroup", "true"}}));
}

TEST(RuntimeOptions, UnknownOrMalformedAreInvalidArgument) {
  auto unknown = decode_runtime_options(any_of("example.com/Other", "\x08\x01"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code(), Code::kInvalidArgument);
  EXPECT_NE(unknown.error().message().find("example.com/Other"), std::string::npos);
  // A suffix that only looks like ours is not ours.
  EXPECT_FALSE(decode_runtime_options(any_of("xcontainerd.runc.v1.Options", "\x08\x01")).ok());
  auto torn = decode_runtime_options(any_of("containerd.runc.v1.Options", "\x32\x10ab"));
  ASSERT_FALSE(torn.ok());
  EXPECT_EQ(torn.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace shim
