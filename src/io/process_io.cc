#include "io/process_io.h"

#include <unistd.h>

#include "base/log.h"
#include "base/strings.h"
#include "io/endpoints.h"
#include "io/stdio_uri.h"

namespace shim::io {
namespace {

// The endpoint, and in `hold` a read side the shim opened for a client not there yet.
Result<UniqueFd> open_output_endpoint(const StdioUri& uri, UniqueFd& hold) {
  if (uri.kind == StdioKind::kFile) return open_output_file(uri.path);
  return open_output_path(uri.path, &hold);
}

}  // namespace

Result<std::unique_ptr<ProcessIo>> ProcessIo::open(Reactor& reactor, ChildReaper& reaper,
                                                   const StdioConfig& config, std::string_view ns,
                                                   std::string_view id, TerminalMaker maker) {
  std::unique_ptr<ProcessIo> io(new ProcessIo(reactor, reaper));
  // On failure the destructor releases whatever was opened so far.
  if (auto r = io->init(config, ns, id, maker); !r) return std::move(r).error().wrap("open stdio");
  return io;
}

Result<void> ProcessIo::init(const StdioConfig& config, std::string_view ns, std::string_view id,
                             TerminalMaker maker) {
  terminal_ = config.terminal;
  if (terminal_ && maker == TerminalMaker::kRunsc) {
    auto console = ConsoleSocket::create(reactor_);
    if (!console) return std::move(console).error();
    console_ = std::move(*console);
  } else if (terminal_) {
    SHIM_TRY(open_own_terminal());
  }
  SHIM_TRY(open_stdin(config.stdin_path));
  SHIM_TRY(open_outputs(config, ns, id));
  if (config.io_uid != 0 || config.io_gid != 0)
    return chown_child_ends(config.io_uid, config.io_gid);
  return ok();
}

Result<void> ProcessIo::open_own_terminal() {
  auto pty = open_pty();
  if (!pty) return std::move(pty).error().wrap("terminal");
  for (UniqueFd* end : {&child_stdin_, &child_stdout_, &child_stderr_}) {
    auto copy = dup_fd(pty->replica.get());
    if (!copy) return std::move(copy).error();
    *end = std::move(*copy);
  }
  master_ = std::move(pty->master);
  return ok();
}

Result<void> ProcessIo::chown_child_ends(uint32_t uid, uint32_t gid) {
  for (const UniqueFd* fd : {&child_stdin_, &child_stdout_, &child_stderr_}) {
    if (fd->valid() && ::fchown(fd->get(), uid, gid) != 0) {
      return errno_error(str_cat("chown stdio to ", uid, ":", gid));
    }
  }
  return ok();
}

Result<void> ProcessIo::open_stdin(const std::string& text) {
  auto uri = parse_stdio_uri(text);
  if (!uri) return std::move(uri).error();
  if (uri->kind == StdioKind::kNull) return ok();
  if (uri->kind != StdioKind::kPath) {
    return Error(Code::kInvalidArgument, str_cat("stdin must be a fifo path: ", text));
  }
  auto src = open_input_path(uri->path, &stdin_writer_hold_);
  if (!src) return std::move(src).error().wrap("stdin");
  if (terminal_) {
    stdin_src_ = std::move(*src);  // copied into the pty master once attach() has it
    return ok();
  }
  auto pipe = make_pipe();
  if (!pipe) return std::move(pipe).error();
  grow_pipe(pipe->write.get());
  child_stdin_ = std::move(pipe->read);
  stdin_copier_ =
      std::make_unique<Copier>(reactor_, "stdin", std::move(*src), std::move(pipe->write), nullptr);
  stdin_copier_->start();
  return ok();
}

Result<void> ProcessIo::open_outputs(const StdioConfig& config, std::string_view ns,
                                     std::string_view id) {
  auto out = parse_stdio_uri(config.stdout_path);
  if (!out) return std::move(out).error();

  // As in containerd, a binary:// stdout means one logger for both streams.
  if (out->kind == StdioKind::kBinary) {
    auto logger = BinaryLogger::start(reactor_, reaper_, *out, ns, id);
    if (!logger) return std::move(logger).error();
    logger_ = std::move(*logger);
    if (terminal_) {
      stdout_dst_ = std::move(logger_->stdout_w());
      logger_->stderr_w().reset();
      outputs_pending_ = 1;
    } else {
      child_stdout_ = std::move(logger_->stdout_w());
      child_stderr_ = std::move(logger_->stderr_w());
    }
    return ok();
  }

  if (terminal_) {
    // stderr is the same pty as stdout, so its endpoint is unused.
    if (out->kind != StdioKind::kNull) {
      auto dst = open_output_endpoint(*out, stdout_hold_);
      if (!dst) return std::move(dst).error().wrap("stdout");
      stdout_dst_ = std::move(*dst);
    }
    outputs_pending_ = 1;  // the master is drained even without an endpoint
    return ok();
  }

  UniqueFd shared;  // stdout's endpoint, when stderr names the same one
  bool same = !config.stdout_path.empty() && config.stdout_path == config.stderr_path;
  SHIM_TRY(open_output(config.stdout_path, stdout_copier_, child_stdout_, same ? &shared : nullptr,
                       "stdout"));
  return open_output(config.stderr_path, stderr_copier_, child_stderr_, same ? &shared : nullptr,
                     "stderr");
}

// `shared` carries the first stream's endpoint to the second when both name the same one, so
// a fifo is opened once and a file gets one append position; each copier gets its own fd (the
// reactor watches fds, not files) and the endpoint closes when both are done.
Result<void> ProcessIo::open_output(const std::string& text, std::unique_ptr<Copier>& copier,
                                    UniqueFd& child_end, UniqueFd* shared, const char* name) {
  auto uri = parse_stdio_uri(text);
  if (!uri) return std::move(uri).error().wrap(name);
  if (uri->kind == StdioKind::kNull) return ok();
  if (uri->kind == StdioKind::kBinary) {
    return Error(Code::kInvalidArgument, str_cat(name, ": binary:// is only honoured on stdout"));
  }

  UniqueFd dst, hold;
  if (shared != nullptr && shared->valid()) {
    dst = std::move(*shared);
  } else {
    auto opened = open_output_endpoint(*uri, hold);
    if (!opened) return std::move(opened).error().wrap(name);
    dst = std::move(*opened);
    grow_pipe(dst.get());  // a fifo's buffer is shared with the client: fewer wake-ups for both
    if (shared != nullptr) {
      auto copy = dup_fd(dst.get());
      if (!copy) return std::move(copy).error();
      *shared = std::move(*copy);
    }
  }

  auto pipe = make_pipe();
  if (!pipe) return std::move(pipe).error();
  grow_pipe(pipe->read.get());
  child_end = std::move(pipe->write);
  copier = make_output_copier(name, std::move(pipe->read), std::move(dst), std::move(hold));
  return ok();
}

std::unique_ptr<Copier> ProcessIo::make_output_copier(const char* name, UniqueFd src, UniqueFd dst,
                                                      UniqueFd reader_hold) {
  ++outputs_pending_;
  auto copier = std::make_unique<Copier>(reactor_, name, std::move(src), std::move(dst),
                                         [this] { output_finished(); });
  copier->linger_until_read();
  copier->hold_reader(std::move(reader_hold));
  copier->start();
  return copier;
}

const std::string& ProcessIo::console_socket() const {
  static const std::string kNone;
  return console_ ? console_->path() : kNone;
}

Task<Result<void>> ProcessIo::attach() {
  if (attached_) co_return ok();
  attached_ = true;
  close_child_ends();

  if (logger_ && logger_->ready().valid()) {
    // The logger closes fd 5 when ready (or dies, which closes it too).
    if (!co_await wait_.arm(logger_->ready().get(), kAttachTimeout)) {
      log::warn("logger ", logger_->pid(), " not ready after ", kAttachTimeout.count(),
                " ms; output stays buffered in its pipes");
    }
    logger_->ready().reset();
  }

  if (console_) {
    auto master = co_await console_->receive_master(kAttachTimeout);
    console_.reset();  // one terminal per process: the socket and its directory can go
    if (!master) co_return std::move(master).error().wrap("attach terminal");
    master_ = std::move(*master);
  }
  if (terminal_ && master_) {
    if (pending_size_) {
      if (auto r = set_window_size(master_.get(), pending_size_->first, pending_size_->second);
          !r) {
        log::warn("attach terminal: ", r.error().message());
      }
    }
    if (auto started = start_terminal_copies(); !started) co_return std::move(started).error();
  }
  co_return ok();
}

void ProcessIo::close_child_ends() {
  // runsc passed these into the sandbox (or failed to): holding them here would keep EOF from
  // ever coming.
  child_stdin_.reset();
  child_stdout_.reset();
  child_stderr_.reset();
}

Result<void> ProcessIo::start_terminal_copies() {
  auto out_src = dup_fd(master_.get());
  if (!out_src) return std::move(out_src).error();
  // Counted as pending since open(); this copier is what ends it.
  --outputs_pending_;
  stdout_copier_ = make_output_copier("terminal", std::move(*out_src), std::move(stdout_dst_),
                                      std::move(stdout_hold_));
  if (stdin_src_ && !stdin_closed_) {
    auto in_dst = dup_fd(master_.get());
    if (!in_dst) return std::move(in_dst).error();
    stdin_copier_ = std::make_unique<Copier>(reactor_, "terminal stdin", std::move(stdin_src_),
                                             std::move(*in_dst), nullptr);
    stdin_copier_->start();
  }
  stdin_src_.reset();
  return ok();
}

void ProcessIo::close_stdin() {
  stdin_closed_ = true;
  stdin_writer_hold_.reset();
  stdin_src_.reset();
  if (stdin_copier_) stdin_copier_->finish_when_idle();
}

Result<void> ProcessIo::resize(uint32_t width, uint32_t height) {
  if (!terminal_) return ok();  // as runc's shim: nothing to resize, and no error
  if (!master_ || !attached_) {
    // Applied once the master arrives, so a size sent before Start is not lost.
    pending_size_ = {width, height};
    return ok();
  }
  return set_window_size(master_.get(), width, height);
}

Task<void> ProcessIo::drained(std::chrono::milliseconds max) {
  if (outputs_pending_ == 0) co_return;
  std::erase_if(drain_waiters_, [](const DrainWaiter& w) { return w.done.ready(); });
  Oneshot<bool> done;
  auto timer = reactor_.call_after(max, [done] { done.set(false); });
  drain_waiters_.push_back(DrainWaiter{done, timer});
  co_await done;
  // `this` may be gone by now (destroyed while we waited): touch nothing of it.
}

void ProcessIo::output_finished() {
  if (--outputs_pending_ > 0) return;
  // Resumed from the loop, not from inside the copier's callback: a waiter may destroy us.
  for (auto& w : drain_waiters_) {
    reactor_.cancel(w.timer);
    reactor_.post([done = w.done] { done.set(true); });
  }
  drain_waiters_.clear();
}

ProcessIo::~ProcessIo() {
  stdin_copier_.reset();
  stdout_copier_.reset();
  stderr_copier_.reset();
  wait_.cancel();
  console_.reset();
  for (auto& w : drain_waiters_) {
    reactor_.cancel(w.timer);
    reactor_.post([done = w.done] { done.set(false); });
  }
  logger_.reset();  // closes its pipes; it exits on EOF or is killed after a grace period
}

}  // namespace shim::io
