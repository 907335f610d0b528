// The process state machine, id validation and mount option parsing.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include "process/ids.h"
#include "process/mount.h"
#include "process/state_machine.h"

namespace shim {
namespace {

using S = ProcessState;
using E = ProcessEvent;

TEST(StateMachine, LegalPath) {
  S s = S::kCreated;
  for (E e : {E::kStart, E::kPause, E::kResume, E::kExit, E::kDelete}) {
    auto next = next_state(s, e);
    ASSERT_TRUE(next.ok()) << event_name(e) << " from " << state_name(s);
    s = *next;
  }
  EXPECT_EQ(s, S::kDeleted);
}

TEST(StateMachine, IllegalEventsAreFailedPrecondition) {
  struct Case {
    S from;
    E event;
  } cases[] = {{S::kRunning, E::kStart}, {S::kStopped, E::kStart}, {S::kCreated, E::kPause},
               {S::kRunning, E::kDelete}, {S::kPaused, E::kDelete}, {S::kStopped, E::kPause},
               {S::kDeleted, E::kExit},  {S::kDeleted, E::kDelete}, {S::kRunning, E::kResume}};
  for (auto c : cases) {
    auto next = next_state(c.from, c.event);
    ASSERT_FALSE(next.ok()) << event_name(c.event) << " from " << state_name(c.from);
    EXPECT_EQ(next.error().code(), Code::kFailedPrecondition);
  }
  EXPECT_EQ(next_state(S::kStopped, E::kStart).error().message(),
            "cannot start a stopped process");
}

TEST(StateMachine, ExitIsLegalFromEveryLiveState) {
  for (S s : {S::kCreated, S::kRunning, S::kPaused}) {
    EXPECT_EQ(*next_state(s, E::kExit), S::kStopped);
  }
}

TEST(Ids, AcceptsContainerdIds) {
  for (const char* id : {"c1", "c10", "abc-DEF_1.2", "0123456789abcdef"}) {
    EXPECT_TRUE(validate_id(id, "id").ok()) << id;
  }
}

TEST(Ids, RejectsWhatCouldEscapeAPath) {
  std::string nul("a\0b", 3);
  for (std::string id : {std::string(""), std::string("a/b"), std::string(".."),
                         std::string("../x"), std::string(".hidden"), nul, std::string(300, 'a'),
                         std::string("a b"), std::string("-flag")}) {
    auto r = validate_id(id, "container id");
    ASSERT_FALSE(r.ok()) << id;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_NE(r.error().message().find("container id"), std::string::npos);
  }
}

TEST(MountOptions, FlagsAndData) {
  auto f = parse_mount_options({"ro", "nosuid", "rbind", "rprivate", "lowerdir=/a:/b", "xino=off"});
  EXPECT_EQ(f.flags, static_cast<unsigned long>(MS_RDONLY | MS_NOSUID | MS_BIND | MS_REC));
  EXPECT_EQ(f.propagation, static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  EXPECT_EQ(f.data, "lowerdir=/a:/b,xino=off");
  auto rw = parse_mount_options({"ro", "rw"});
  EXPECT_EQ(rw.flags, 0u);
}

}  // namespace
}  // namespace shim
