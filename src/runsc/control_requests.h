// What the shim asks a sandbox directly, in place of a runsc process per request: start a
// process in a container (containerManager.ExecuteAsync, what `runsc exec` itself sends),
// wait for it (WaitPID), signal it (Signal), and per-container stats (Event). Wire facts, read
// in gVisor's runsc/boot and pkg/sentry/control at releases 20221219 and 20240729 and checked
// against the first: see docs/runsc.md.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/error.h"
#include "reactor/child_reaper.h"
#include "runsc/features.h"

namespace shim {

// What ExecuteAsync needs beyond the OCI Process the client sent.
struct ExecTarget {
  std::string container_id;
  // From the container's own spec, for what the exec's spec leaves out (as `runsc exec`
  // fills them): its cwd and its capabilities.
  std::string default_cwd;
  nlohmann::json default_capabilities;  // an OCI capabilities object, or null
  RunscFeatures features;               // how many capabilities this runsc knows
  bool net_raw = false;                 // runsc --net-raw: CAP_NET_RAW is kept
};

// The ExecuteAsync request for `process` (an OCI Process), whose stdio goes as three fds
// (guest fds 0, 1, 2). A terminal (process.terminal) means those three are one pty replica.
// The server itself looks the binary up in the container's PATH, adds HOME, and takes
// rlimits from the sandbox's root spec, as it does for `runsc exec`. InvalidArgument for a
// spec it cannot carry (no args, a capability this runsc does not know).
Result<std::string> execute_async_request(const nlohmann::json& process, const ExecTarget& target);
// The pid ExecuteAsync returns (in the sandbox's root pid namespace).
Result<pid_t> parse_exec_pid(const nlohmann::json& result);

// WaitPID: answers once that process exited, with its wait status. Only the first completed
// WaitPID of a pid gets it (the sandbox forgets the process then): wait once.
std::string wait_pid_request(std::string_view container_id, pid_t pid);
Result<ExitStatus> parse_wait_status(const nlohmann::json& result);

// Signal delivery modes; any other value panics the sandbox (measured), so only these exist.
enum class SignalTarget { kProcess = 0, kAllProcesses = 1, kForegroundGroup = 2 };
std::string signal_request(std::string_view container_id, pid_t pid, int signal,
                           SignalTarget target);

// Event (`runsc events --stats`): 20221219 takes no argument and reports per container only
// CPU; 20240729 takes the container id and reports its own memory, CPU and pids.
std::string event_request(std::string_view container_id, const RunscFeatures& features);

// What an Event answer says. Zero where the sandbox left a figure out.
struct SandboxEvent {
  uint64_t memory_bytes = 0;  // the container's own (20240729), or the whole sandbox's
  uint64_t cpu_ns = 0;        // the container's own, when the sandbox accounts it (20240729)
  uint64_t pids = 0;          // the container's threads (20240729), or the sandbox's processes
  // CPU time per container of the live processes (20221219; 20240729 without its cgroups):
  // `runsc events` shares the host cgroup's CPU out in these proportions.
  std::map<std::string, uint64_t> cpu_ns_by_container;
};
Result<SandboxEvent> parse_event(const nlohmann::json& result);

// containerManager.Processes (what `runsc ps` shows) of one container.
std::string processes_request(std::string_view container_id);

}  // namespace shim
