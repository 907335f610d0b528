#include "io/binary_logger.h"

#include <signal.h>

#include "base/log.h"
#include "base/spawn.h"
#include "base/strings.h"
#include "io/copier.h"
#include "io/endpoints.h"

namespace shim::io {
namespace {

// Above 5, so that spawn's dup2 onto 3, 4 and 5 (done in order) never overwrites a source.
constexpr int kHighFd = 10;

}  // namespace

Result<std::unique_ptr<BinaryLogger>> BinaryLogger::start(Reactor& reactor, ChildReaper& reaper,
                                                          const StdioUri& uri, std::string_view ns,
                                                          std::string_view id) {
  auto out = make_pipe();
  if (!out) return std::move(out).error();
  auto err = make_pipe();
  if (!err) return std::move(err).error();
  auto ready = make_pipe();
  if (!ready) return std::move(ready).error();
  grow_pipe(out->write.get());
  grow_pipe(err->write.get());

  auto out_r = dup_fd(out->read.get(), kHighFd);
  if (!out_r) return std::move(out_r).error();
  auto err_r = dup_fd(err->read.get(), kHighFd);
  if (!err_r) return std::move(err_r).error();
  auto ready_w = dup_fd(ready->write.get(), kHighFd);
  if (!ready_w) return std::move(ready_w).error();
  out->read.reset();
  err->read.reset();
  ready->write.reset();

  SpawnOptions options;
  options.argv.push_back(uri.path);
  options.argv.insert(options.argv.end(), uri.args.begin(), uri.args.end());
  options.env =
      std::vector<std::string>{str_cat("CONTAINER_ID=", id), str_cat("CONTAINER_NAMESPACE=", ns)};
  options.extra_fds = {{out_r->get(), 3}, {err_r->get(), 4}, {ready_w->get(), 5}};
  auto pid = spawn_process(options);
  if (!pid) return std::move(pid).error().wrap("start logger");

  // Watch the exit before anything can yield to the loop, so the status is never lost.
  auto life = std::make_shared<Life>(Life{&reactor, *pid});
  reaper.on_exit(*pid, [life](ExitStatus status) {
    life->exited = true;
    if (life->kill_timer != 0) life->reactor->cancel(life->kill_timer);
    if (status.code != 0) log::warn("logger ", life->pid, " exited with status ", status.code);
  });

  std::unique_ptr<BinaryLogger> logger(new BinaryLogger(*pid, std::move(life)));
  logger->stdout_w_ = std::move(out->write);
  logger->stderr_w_ = std::move(err->write);
  logger->ready_r_ = std::move(ready->read);
  return logger;
}

BinaryLogger::~BinaryLogger() {
  stdout_w_.reset();
  stderr_w_.reset();
  ready_r_.reset();
  if (life_->exited) return;
  // Until the reaper sets `exited` the pid is our unreaped child, so it cannot be reused.
  life_->kill_timer = life_->reactor->call_after(kGrace, [life = life_] {
    life->kill_timer = 0;
    if (life->exited) return;
    log::warn("logger ", life->pid, " still running after its output closed; killing it");
    ::kill(life->pid, SIGKILL);
  });
}

}  // namespace shim::io
