// What a runsc can do, from what `runsc --version` prints.
#include "runsc/features.h"

#include <gtest/gtest.h>

namespace shim {
namespace {

TEST(RunscFeatures, DebianAndUpstreamVersionTexts) {
  auto bookworm = parse_runsc_version("runsc version 0.0~20221219.0\nspec: 1.0.2-dev\n");
  EXPECT_EQ(bookworm.release_date, 20221219);
  EXPECT_EQ(bookworm.capability_count(), 38);
  EXPECT_TRUE(bookworm.abstract_control_socket());

  auto trixie = parse_runsc_version("runsc version release-20240729.0\nspec: 1.1.0\n");
  EXPECT_EQ(trixie.release_date, 20240729);
  EXPECT_EQ(trixie.capability_count(), 41);
  EXPECT_FALSE(trixie.abstract_control_socket());
}

TEST(RunscFeatures, TheReleasesThatChangedThings) {
  EXPECT_EQ(parse_runsc_version("release-20230220.0").capability_count(), 38);
  EXPECT_EQ(parse_runsc_version("release-20230227.0").capability_count(), 41);
  EXPECT_TRUE(parse_runsc_version("release-20230118.0").abstract_control_socket());
  EXPECT_FALSE(parse_runsc_version("release-20230130.0").abstract_control_socket());
  EXPECT_FALSE(parse_runsc_version("release-20220314.0").systemd_cgroup());
  EXPECT_TRUE(parse_runsc_version("0.0~20221219.0").systemd_cgroup());
  EXPECT_FALSE(parse_runsc_version("release-20230724.0").event_per_container());
  EXPECT_TRUE(parse_runsc_version("release-20230731.0").event_per_container());
}

TEST(RunscFeatures, UnreadableMeansNewest) {
  for (const char* text : {"", "runsc version 1.2.3", "runsc 123456789", "0.0~99999999.0"}) {
    auto f = parse_runsc_version(text);
    EXPECT_EQ(f.release_date, 0) << text;
    EXPECT_EQ(f.capability_count(), 41) << text;
    EXPECT_FALSE(f.abstract_control_socket()) << text;
  }
}

}  // namespace
}  // namespace shim
