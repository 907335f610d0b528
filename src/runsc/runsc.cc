#include "runsc/runsc.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/log.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "reactor/file_written_watch.h"
#include "runsc/argv.h"

namespace shim {
namespace {

// log.json is small (errors only without --debug), but never read an unbounded amount.
constexpr off_t kMaxLogRead = 1 << 20;
constexpr off_t kMaxStderrRead = 64 << 10;

off_t file_size(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

// The tail of a file from `offset` on (at most `max` bytes, the newest ones).
std::string read_from(int fd, off_t offset, off_t max) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || st.st_size <= offset) return {};
  off_t begin = std::max(offset, st.st_size - max);
  std::string out(static_cast<size_t>(st.st_size - begin), '\0');
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::pread(fd, out.data() + got, out.size() - got, begin + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

std::string read_log_since(const std::string& path, off_t offset) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  return fd ? read_from(fd.get(), offset, kMaxLogRead) : std::string();
}

// runsc repeats its error on stderr, and a Go panic only goes there: its "panic: ..." line,
// or else the last line, is the fallback when log.json says nothing.
std::string stderr_message(std::string_view text) {
  std::string_view last;
  for (std::string_view line : split(text, '\n')) {
    line = trim(line);
    if (line.starts_with("panic: ")) return std::string(line);
    if (!line.empty()) last = line;
  }
  return std::string(last);
}

std::string seconds_text(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms % 1000 == 0) return str_cat(ms / 1000, "s");
  std::string frac = str_cat(1000 + ms % 1000).substr(1);  // zero-padded to 3 digits
  while (frac.ends_with('0')) frac.pop_back();
  return str_cat(ms / 1000, ".", frac, "s");
}

// "192.3 ms": a call's duration in the debug log.
std::string milliseconds_text(std::chrono::steady_clock::duration d) {
  auto tenths = std::chrono::duration_cast<std::chrono::microseconds>(d).count() / 100;
  return str_cat(tenths / 10, ".", tenths % 10, " ms");
}

// A failed call's error: the last error runsc wrote to log.json since `log_offset`, else what
// it said on stderr (when that was ours to read), else its exit status.
Error call_failure(std::string_view context, const std::string& log_path, off_t log_offset,
                   int exit_code, int stderr_fd = -1) {
  std::string message = last_error_message(read_log_since(log_path, log_offset));
  if (message.empty() && stderr_fd >= 0) {
    message = stderr_message(read_from(stderr_fd, 0, kMaxStderrRead));
  }
  if (message.empty()) message = str_cat("exit status ", exit_code);
  return Error(classify_runsc_error(message), str_cat(context, ": ", message));
}

Result<pid_t> read_pid_file(const std::string& path) {
  auto text = read_file(path);
  // Internal, not NotFound: a missing pid file is runsc misbehaving, not a missing container.
  if (!text) return Error(Code::kInternal, text.error().message());
  pid_t pid = 0;
  if (!parse_int(trim(*text), pid) || pid <= 0) {
    return Error(Code::kInternal, str_cat("pid file ", path, ": not a pid: \"", *text, "\""));
  }
  return pid;
}

}  // namespace

Runsc::Runsc(CommandRunner& runner, ShimConfig config, std::string state_root, std::string log_path,
             RunscTimeouts timeouts)
    : runner_(runner),
      config_(std::move(config)),
      state_root_(std::move(state_root)),
      log_path_(std::move(log_path)),
      timeouts_(timeouts) {}

Result<Runsc> Runsc::for_sandbox(CommandRunner& runner, ShimConfig config, std::string_view ns,
                                 std::string_view sandbox_id, std::string_view bundle,
                                 RunscTimeouts timeouts) {
  auto root = runsc_argv::sandbox_state_root(config, ns, sandbox_id);
  SHIM_TRY(root);
  std::string log = str_cat(bundle, "/log.json");
  return Runsc(runner, std::move(config), std::move(*root), std::move(log), timeouts);
}

Result<void> Runsc::ensure_state_root() {
  if (state_root_ready_) return ok();
  // Each new level 0711: runsc's state files stay private, paths stay traversable.
  if (auto r = make_dirs(state_root_, 0711); !r) {
    return std::move(r).error().wrap("create runsc root");
  }
  state_root_ready_ = true;
  return ok();
}

Task<Result<std::string>> Runsc::run(Call call) {
  std::string context = str_cat("runsc ", call.name);
  if (auto r = ensure_state_root(); !r) co_return std::move(r).error().wrap(context);

  // The last argument names the container for every call that has one.
  std::string subject = call.args.empty() ? std::string() : call.args.back();
  CommandOptions options;
  options.spawn.argv = runsc_argv::full(config_, state_root_, log_path_, std::move(call.args));
  options.spawn.stdin_fd = call.stdio.in;
  options.spawn.stdout_fd = call.stdio.out;
  options.spawn.stderr_fd = call.stdio.err;
  options.timeout = call.timeout;
  options.capture_stdout = call.capture_stdout;
  UniqueFd stderr_fd;
  if (call.capture_stderr) {
    stderr_fd.reset(::memfd_create("runsc-stderr", MFD_CLOEXEC));
    if (stderr_fd) options.spawn.stderr_fd = stderr_fd.get();
  }
  // Only errors written during this call are this call's.
  const off_t log_offset = file_size(log_path_);
  log::debug("exec ", join_argv(options.spawn.argv));
  const auto started = std::chrono::steady_clock::now();

  auto result = co_await runner_.run(std::move(options));
  // bench/run.py reads these lines to split `ctr run` time between runsc and the rest.
  std::string outcome = result ? str_cat("exit status ", result->exit.code) : "not run";
  log::debug(context, " ", subject, ": ", outcome, " after ",
             milliseconds_text(std::chrono::steady_clock::now() - started));
  // Failing to start runsc at all (a wrong binary_name) is our fault, never "not found".
  if (!result) co_return Error(Code::kInternal, result.error().message()).wrap(context);
  if (result->timed_out) {
    co_return Error(Code::kDeadlineExceeded,
                    str_cat(context, " timed out after ", seconds_text(call.timeout)));
  }
  if (result->exit.code != 0) {
    co_return call_failure(context, log_path_, log_offset, result->exit.code, stderr_fd.get());
  }
  co_return std::move(result->stdout_data);
}

Task<Result<void>> Runsc::run_status(Call call) {
  auto done = co_await run(std::move(call));
  if (!done) co_return std::move(done).error();
  co_return ok();
}

Task<Result<pid_t>> Runsc::create(std::string id, std::string bundle, std::string pid_file,
                                  RunscStdio stdio, std::string console_socket) {
  Call call{"create", runsc_argv::create(id, bundle, pid_file, console_socket), timeouts_.slow,
            stdio};
  call.capture_stderr = false;  // the container's stderr
  auto done = co_await run(std::move(call));
  if (!done) co_return std::move(done).error();
  auto pid = read_pid_file(pid_file);
  if (!pid) co_return std::move(pid).error().wrap("runsc create");
  co_return *pid;
}

Task<Result<void>> Runsc::start(std::string id) {
  Call call{"start", runsc_argv::start(id), timeouts_.medium, {}};
  co_return co_await run_status(std::move(call));
}

Task<Result<void>> Runsc::start(std::string id, RunscStdio stdio) {
  Call call{"start", runsc_argv::start(id), timeouts_.medium, stdio};
  call.capture_stderr = false;  // the container's stderr
  co_return co_await run_status(std::move(call));
}

Task<Result<RunscState>> Runsc::state(std::string id) {
  Call call{"state", runsc_argv::state(id), timeouts_.quick, {}};
  call.capture_stdout = true;
  auto out = co_await run(std::move(call));
  if (!out) co_return std::move(out).error();
  co_return parse_runsc_state(*out);
}

Task<Result<void>> Runsc::kill(std::string id, int signal, bool all, std::optional<pid_t> pid) {
  Call call{"kill", runsc_argv::kill(id, signal, all, pid), timeouts_.quick, {}};
  co_return co_await run_status(std::move(call));
}

Task<Result<void>> Runsc::remove(std::string id, bool force) {
  Call call{"delete", runsc_argv::remove(id, force), timeouts_.medium, {}};
  co_return co_await run_status(std::move(call));
}

Task<Result<std::vector<pid_t>>> Runsc::ps(std::string id) {
  Call call{"ps", runsc_argv::ps(id), timeouts_.quick, {}};
  call.capture_stdout = true;
  auto out = co_await run(std::move(call));
  if (!out) co_return std::move(out).error();
  co_return parse_runsc_ps(*out);
}

Task<Result<void>> Runsc::pause(std::string id) {
  Call call{"pause", runsc_argv::pause(id), timeouts_.quick, {}};
  co_return co_await run_status(std::move(call));
}

Task<Result<void>> Runsc::resume(std::string id) {
  Call call{"resume", runsc_argv::resume(id), timeouts_.quick, {}};
  co_return co_await run_status(std::move(call));
}

Task<Result<RunscExecPids>> Runsc::exec(std::string id, std::string process_json,
                                        std::string pid_file, std::string internal_pid_file,
                                        RunscStdio stdio, std::string console_socket) {
  const std::string context = "runsc exec";
  if (!console_socket.empty()) {
    co_return co_await exec_detached(std::move(id), std::move(process_json), std::move(pid_file),
                                     std::move(internal_pid_file), stdio,
                                     std::move(console_socket));
  }
  if (auto r = ensure_state_root(); !r) co_return std::move(r).error().wrap(context);
  Reactor& reactor = runner_.reactor();
  // Watched before the spawn, so the write cannot come first.
  auto created = FileWrittenWatch::create(reactor, pid_file);
  if (!created) co_return std::move(created).error().wrap(context);
  std::unique_ptr<FileWrittenWatch> pid_file_watch = std::move(*created);
  SpawnOptions spawn;
  spawn.argv = runsc_argv::full(
      config_, state_root_, log_path_,
      runsc_argv::exec(id, process_json, pid_file, internal_pid_file, console_socket));
  // runsc hands its stdio to the process: runsc's own errors reach the client too.
  spawn.stdin_fd = stdio.in;
  spawn.stdout_fd = stdio.out;
  spawn.stderr_fd = stdio.err;
  const off_t log_offset = file_size(log_path_);
  const auto started = std::chrono::steady_clock::now();
  log::debug("exec ", join_argv(spawn.argv));
  auto waiter = spawn_process(spawn);
  if (!waiter) co_return Error(Code::kInternal, waiter.error().message()).wrap(context);
  Oneshot<ExitStatus> exited = runner_.reaper().exited(*waiter);

  enum class Wake { kPidFile, kExited, kDeadline };
  const auto deadline = Reactor::Clock::now() + timeouts_.medium;
  while (true) {
    // runsc writes its own pid there once the process runs (the internal pid file first).
    if (auto written = read_pid_file(pid_file); written && *written == *waiter) break;
    if (exited.ready()) {
      co_return call_failure(context, log_path_, log_offset, exited.peek().code);
    }
    Oneshot<Wake> wake;
    pid_file_watch->notify([wake] { wake.set(Wake::kPidFile); });
    uint64_t on_exit = exited.then([wake](const ExitStatus&) { wake.set(Wake::kExited); });
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Reactor::Clock::now());
    auto timer = reactor.call_after(left, [wake] { wake.set(Wake::kDeadline); });
    Wake why = co_await wake;
    pid_file_watch->notify(nullptr);
    exited.cancel(on_exit);
    reactor.cancel(timer);
    if (why == Wake::kDeadline) {
      ::kill(*waiter, SIGKILL);
      (void)co_await exited;
      co_return Error(Code::kDeadlineExceeded,
                      str_cat(context, " timed out after ", seconds_text(timeouts_.medium)));
    }
  }
  log::debug(context, " ", id, ": running after ",
             milliseconds_text(std::chrono::steady_clock::now() - started));
  auto internal = read_pid_file(internal_pid_file);
  if (!internal) {
    ::kill(*waiter, SIGKILL);
    co_return std::move(internal).error().wrap(context);
  }
  co_return RunscExecPids{*waiter, *internal, exited};
}

Task<Result<RunscExecPids>> Runsc::exec_detached(std::string id, std::string process_json,
                                                 std::string pid_file,
                                                 std::string internal_pid_file, RunscStdio stdio,
                                                 std::string console_socket) {
  Call call{"exec", runsc_argv::exec(id, process_json, pid_file, internal_pid_file, console_socket),
            timeouts_.medium, stdio};
  call.capture_stderr = false;  // the exec'd process's stderr
  auto done = co_await run(std::move(call));
  if (!done) co_return std::move(done).error();
  // The waiter runsc leaves behind is reparented to us (a subreaper): its exit is ours even
  // if it came already.
  auto waiter = read_pid_file(pid_file);
  if (!waiter) co_return std::move(waiter).error().wrap("runsc exec");
  auto internal = read_pid_file(internal_pid_file);
  if (!internal) co_return std::move(internal).error().wrap("runsc exec");
  co_return RunscExecPids{*waiter, *internal, runner_.reaper().exited(*waiter)};
}

Task<Result<void>> Runsc::checkpoint(std::string id, std::string image_path, bool leave_running) {
  Call call{
      "checkpoint", runsc_argv::checkpoint(id, image_path, leave_running), timeouts_.slow, {}};
  co_return co_await run_status(std::move(call));
}

Task<Result<pid_t>> Runsc::restore(std::string id, std::string bundle, std::string image_path,
                                   std::string pid_file, RunscStdio stdio,
                                   std::string console_socket) {
  Call call{"restore", runsc_argv::restore(id, bundle, image_path, pid_file, console_socket),
            timeouts_.slow, stdio};
  call.capture_stderr = false;  // the container's stderr
  auto done = co_await run(std::move(call));
  if (!done) co_return std::move(done).error();
  auto pid = read_pid_file(pid_file);
  if (!pid) co_return std::move(pid).error().wrap("runsc restore");
  co_return *pid;
}

Task<Result<int>> Runsc::wait(std::string id) {
  // As long as the container lives: no deadline that could cut a healthy wait short.
  Call call{"wait", runsc_argv::wait(id), std::chrono::hours(24 * 365), {}};
  call.capture_stdout = true;
  auto out = co_await run(std::move(call));
  if (!out) co_return std::move(out).error();
  auto parsed = nlohmann::json::parse(*out, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.contains("exitStatus") ||
      !parsed["exitStatus"].is_number_integer()) {
    co_return Error(Code::kInternal, str_cat("runsc wait: unexpected output: ", *out));
  }
  int status = parsed["exitStatus"].get<int>();
  // Go's WaitStatus.ExitStatus() is -1 for a process killed by a signal.
  co_return status < 0 ? 128 + 9 : status;
}

Task<RunscFeatures> Runsc::features() {
  Call call{"version", {"--version"}, timeouts_.quick, {}};
  call.capture_stdout = true;
  auto out = co_await run(std::move(call));
  if (!out) {
    log::warn("runsc --version: ", out.error().message());
    co_return RunscFeatures{};
  }
  RunscFeatures features = parse_runsc_version(*out);
  log::debug("runsc ", config_.binary_name, ": release ", features.release_date);
  co_return features;
}

Task<Result<std::string>> Runsc::events_stats(std::string id) {
  Call call{"events", runsc_argv::events_stats(id), timeouts_.quick, {}};
  call.capture_stdout = true;
  co_return co_await run(std::move(call));
}

}  // namespace shim
