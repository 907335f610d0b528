#include "runsc/argv.h"

#include "base/strings.h"

namespace shim::runsc_argv {
namespace {

// A path component from containerd (namespace or id) must stay one component.
bool safe_component(std::string_view s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string_view::npos &&
         s.find('\0') == std::string_view::npos;
}

using Args = std::vector<std::string>;

void add_console(Args& args, std::string_view console_socket) {
  if (console_socket.empty()) return;
  args.emplace_back("--console-socket");
  args.emplace_back(console_socket);
}

}  // namespace

Result<std::string> sandbox_state_root(const ShimConfig& config, std::string_view ns,
                                       std::string_view sandbox_id) {
  if (!safe_component(ns)) {
    return Error(Code::kInvalidArgument, str_cat("invalid namespace \"", ns, "\""));
  }
  if (!safe_component(sandbox_id)) {
    return Error(Code::kInvalidArgument, str_cat("invalid sandbox id \"", sandbox_id, "\""));
  }
  std::string_view root = config.root;
  while (root.size() > 1 && root.ends_with('/')) root.remove_suffix(1);
  return str_cat(root, "/", ns, "/", sandbox_id);
}

Args full(const ShimConfig& config, std::string_view state_root, std::string_view log_path,
          Args subcommand) {
  Args argv;
  argv.reserve(4 + config.runsc_flags.size() + subcommand.size());
  argv.push_back(config.binary_name);
  argv.push_back(str_cat("--root=", state_root));
  argv.push_back(str_cat("--log=", log_path));
  argv.emplace_back("--log-format=json");
  for (const auto& [key, value] : config.runsc_flags)
    argv.push_back(str_cat("--", key, "=", value));
  for (auto& a : subcommand) argv.push_back(std::move(a));
  return argv;
}

Args create(std::string_view id, std::string_view bundle, std::string_view pid_file,
            std::string_view console_socket) {
  Args args{"create", "--bundle", std::string(bundle), "--pid-file", std::string(pid_file)};
  add_console(args, console_socket);
  args.emplace_back(id);
  return args;
}

Args start(std::string_view id) { return {"start", std::string(id)}; }
Args state(std::string_view id) { return {"state", std::string(id)}; }

Args kill(std::string_view id, int signal, bool all, std::optional<pid_t> pid) {
  Args args{"kill"};
  if (all) args.emplace_back("--all");
  if (pid) {
    args.emplace_back("--pid");
    args.push_back(str_cat(*pid));
  }
  args.emplace_back(id);
  args.push_back(str_cat(signal));
  return args;
}

Args remove(std::string_view id, bool force) {
  Args args{"delete"};
  if (force) args.emplace_back("--force");
  args.emplace_back(id);
  return args;
}

Args ps(std::string_view id) { return {"ps", "--format", "json", std::string(id)}; }
Args pause(std::string_view id) { return {"pause", std::string(id)}; }
Args resume(std::string_view id) { return {"resume", std::string(id)}; }

Args exec(std::string_view id, std::string_view process_json, std::string_view pid_file,
          std::string_view internal_pid_file, std::string_view console_socket) {
  Args args{"exec"};
  // Only with `--detach` does this runsc make the terminal and send it over the console socket
  // (measured: in the foreground, `ctr task exec -t` got nothing and hung).
  if (!console_socket.empty()) args.emplace_back("--detach");
  args.insert(args.end(),
              {"--process", std::string(process_json), "--pid-file", std::string(pid_file),
               "--internal-pid-file", std::string(internal_pid_file)});
  add_console(args, console_socket);
  args.emplace_back(id);
  return args;
}

Args checkpoint(std::string_view id, std::string_view image_path, bool leave_running) {
  Args args{"checkpoint", "--image-path", std::string(image_path)};
  if (leave_running) args.emplace_back("--leave-running");
  args.emplace_back(id);
  return args;
}

Args restore(std::string_view id, std::string_view bundle, std::string_view image_path,
             std::string_view pid_file, std::string_view console_socket) {
  Args args{"restore",           "--detach",           "--bundle",
            std::string(bundle), "--image-path",       std::string(image_path),
            "--pid-file",        std::string(pid_file)};
  add_console(args, console_socket);
  args.emplace_back(id);
  return args;
}

Args events_stats(std::string_view id) { return {"events", "--stats", std::string(id)}; }
Args wait(std::string_view id) { return {"wait", std::string(id)}; }

}  // namespace shim::runsc_argv
