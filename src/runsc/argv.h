// Pure argv builders for runsc: what each call looks like, with no process started, so the
// exact command lines are unit-tested.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "runsc/config.h"

namespace shim::runsc_argv {

// `<config.root>/<namespace>/<sandbox id>`: one runsc root per sandbox, because runsc
// resolves ids by prefix (`c1` next to `c10` is "ambiguous", or worse, the other one).
// `delete` derives it again from (namespace, sandbox id). Rejects names that would escape.
Result<std::string> sandbox_state_root(const ShimConfig& config, std::string_view ns,
                                       std::string_view sandbox_id);

// binary, `--root=R --log=L --log-format=json`, every runsc_config flag, then `subcommand`.
std::vector<std::string> full(const ShimConfig& config, std::string_view state_root,
                              std::string_view log_path, std::vector<std::string> subcommand);

std::vector<std::string> create(std::string_view id, std::string_view bundle,
                                std::string_view pid_file, std::string_view console_socket);
std::vector<std::string> start(std::string_view id);
std::vector<std::string> state(std::string_view id);
std::vector<std::string> kill(std::string_view id, int signal, bool all, std::optional<pid_t> pid);
std::vector<std::string> remove(std::string_view id, bool force);  // `runsc delete`
std::vector<std::string> ps(std::string_view id);
std::vector<std::string> pause(std::string_view id);
std::vector<std::string> resume(std::string_view id);
std::vector<std::string> exec(std::string_view id, std::string_view process_json,
                              std::string_view pid_file, std::string_view internal_pid_file,
                              std::string_view console_socket);
std::vector<std::string> checkpoint(std::string_view id, std::string_view image_path,
                                    bool leave_running);
std::vector<std::string> restore(std::string_view id, std::string_view bundle,
                                 std::string_view image_path, std::string_view pid_file,
                                 std::string_view console_socket);
std::vector<std::string> events_stats(std::string_view id);
std::vector<std::string> wait(std::string_view id);

}  // namespace shim::runsc_argv
