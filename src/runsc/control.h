// The sandbox's control socket: the urpc server runsc runs inside every sandbox process,
// which `runsc wait` itself talks to. Waiting on a pod's app container here costs the shim
// one socket, where a `runsc wait` helper costs a process (18 MB RSS, 4.4 MB PSS measured).
//
// What runsc 20221219 speaks there (read in gVisor's pkg/urpc and runsc/boot, checked here):
// an abstract AF_UNIX stream socket named "\0runsc-sandbox.<sandbox id>\0" (its Go counts the
// trailing NUL into the name); a call is one JSON object {"method": M, "arg": A}, answered by
// {"success": bool, "err": text, "result": R}, objects back to back without framing, one call
// at a time per connection. containerManager.Wait takes a container id and returns a Linux
// wait status once that container's init has exited. runsc 20240729 speaks the same, but binds
// a file instead, `runsc-<id>.sock` in its --root (through /proc/self/fd/<the dir's fd>/ when
// the path is longer than a sockaddr_un holds, as a CRI sandbox's is), and records that path in
// the sandbox's state file, `<root>/<id>_sandbox:<id>.state`, as sandbox.controlSocketPath.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/unique_fd.h"
#include "reactor/reactor.h"
#include "reactor/task.h"

namespace shim {

// One call's request text: {"method": M, "arg": A}.
std::string control_request(std::string_view method, const nlohmann::json& arg);

// The "result" of a reply. A reply with success false is the sandbox's error message (its
// code read as runsc's messages are); anything else that is not a reply is Internal.
Result<nlohmann::json> parse_control_reply(std::string_view reply);

// The request for containerManager.Wait on `container_id`.
std::string control_wait_request(std::string_view container_id);

// The exit code in a Wait reply, as containerd reports codes: the process's own, or 128 + the
// signal that killed it. A reply with success false is the sandbox's error message.
Result<int> parse_control_wait_reply(std::string_view reply);

// The control socket path in a sandbox's state file text; empty when it names none (runsc
// 20221219, whose socket is the abstract name).
std::string control_socket_path(std::string_view state_json);

// A connection to sandbox `sandbox_id`'s control socket, `state_root` being its runsc --root:
// the path its state file names, else the abstract name. Unavailable when nothing listens
// there (the sandbox is gone, or a runsc that keeps the socket elsewhere).
Result<UniqueFd> connect_sandbox_control(const std::string& state_root,
                                         std::string_view sandbox_id);

// One call on `socket`: `request` is sent with `fds` riding on its first byte (SCM_RIGHTS, as
// the server takes them), then the reply is awaited for up to `timeout` (a wait lasts as long
// as its process: no limit by default); its result. Unavailable when the socket closes first
// (the sandbox died), DeadlineExceeded when the time is up. The server reads one request per
// connection at a time; never pipeline.
Task<Result<nlohmann::json>> control_call(
    Reactor& reactor, const UniqueFd& socket, std::string request, std::vector<int> fds = {},
    std::chrono::milliseconds timeout = std::chrono::hours(24 * 365));

// Asks, on `socket`, for container `container_id` to exit and waits as long as that takes;
// its exit code. Unavailable when the socket closes first: the sandbox died.
Task<Result<int>> wait_via_control(Reactor& reactor, UniqueFd socket, std::string container_id);

}  // namespace shim
