// What a runsc binary can do, decided from what it reports about itself (`runsc --version`),
// not guessed: Debian prints "runsc version 0.0~20221219.0", upstream "release-20240729.0";
// the release date says which capabilities it knows and where its control socket lives.
#pragma once

#include <string_view>

namespace shim {

struct RunscFeatures {
  int release_date = 0;  // YYYYMMDD; 0 when the version text had none (then: newest behaviour)

  // Capability numbers this runsc accepts by name: 0..CAP_AUDIT_READ(37) before release
  // 20230227, which added CAP_PERFMON, CAP_BPF and CAP_CHECKPOINT_RESTORE (38..40).
  constexpr int capability_count() const { return before(20230227) ? 38 : 41; }
  // Before release 20230130 the control socket is abstract ("\0runsc-sandbox.<id>\0"); from
  // then on it is a file whose path the sandbox's state file records.
  constexpr bool abstract_control_socket() const { return before(20230130); }
  // containerManager.Event takes the container's id (and answers for that container alone)
  // from release 20230731 on; before, it takes nothing and answers for the whole sandbox.
  constexpr bool event_per_container() const { return !before(20230731); }
  // --systemd-cgroup (cgroups through systemd, runc's SystemdCgroup) from release 20220321.
  constexpr bool systemd_cgroup() const { return !before(20220321); }

  constexpr bool before(int date) const { return release_date != 0 && release_date < date; }
};

// Parses `runsc --version` output; the date is the first run of eight digits that looks like
// one (20YYMMDD).
RunscFeatures parse_runsc_version(std::string_view text);

}  // namespace shim
