// Capabilities a runsc does not know. containerd grants a privileged container every
// capability of the running kernel; on kernel 6.x that includes CAP_PERFMON, CAP_BPF and
// CAP_CHECKPOINT_RESTORE, which runsc before 20230227 rejects ("unknown capability"), so no
// privileged container could start. Those are dropped; an unknown name asked for on its own
// is left for runsc to refuse, clearly.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/capability_names.h"

namespace shim {

// `process` is an OCI Process object: a spec's "process", or an exec's whole spec.

// Whether the process names a capability numbered `known_count` or higher: the only case that
// needs the runsc's version.
bool names_capabilities_from(const nlohmann::json& process, int known_count);

// containerd grants a privileged container (and CRI's "ALL") exactly its own effective set,
// which the shim, its descendant, shares: that is how a wholesale grant is recognised. When the
// bounding set equals `granted` (a bit per capability number), removes the capabilities
// numbered known_count and up from every set of the process's capabilities and returns their
// names; otherwise changes nothing.
std::vector<std::string> drop_unknown_granted_capabilities(nlohmann::json& process, int known_count,
                                                           uint64_t granted);

// This process's effective capabilities (CapEff in /proc/self/status); 0 if unreadable.
uint64_t own_effective_capabilities();

}  // namespace shim
