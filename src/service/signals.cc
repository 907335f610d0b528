// Kill, CloseIO and ResizePty: talking to a process that is already running.
#include <signal.h>

#include <cerrno>

#include "base/log.h"
#include "service/task_service.h"

namespace shim {

Task<Result<Empty>> TaskService::kill(task::KillRequest req, ttrpc::CallContext) {
  auto found = find_process(req.id, req.exec_id);
  if (!found) co_return std::move(found).error();
  auto& p = found->process;
  // containerd's CRI kills execs that already exited: NotFound is the answer it expects.
  if (p->exit || p->state == ProcessState::kStopped || p->state == ProcessState::kDeleted) {
    co_return Error(Code::kNotFound,
                    str_cat("process ", req.id, " ", req.exec_id, " already finished"));
  }
  int signal = static_cast<int>(req.signal);
  Result<void> r;
  if (p->is_init() && p->state == ProcessState::kCreated && !p->starting) {
    co_return co_await kill_unstarted(found->container);
  }
  if (p->is_init()) {
    // A paused sandbox would hold the signal until resumed; SIGKILL means now.
    if (p->state == ProcessState::kPaused && signal == SIGKILL) {
      auto resumed = co_await resume_container(found->container);
      if (!resumed) co_return std::move(resumed).error().wrap(str_cat("kill ", req.id));
    }
    r = co_await found->container->runsc->kill(req.id, signal, req.all);
  } else {
    if (p->state == ProcessState::kCreated) {
      co_return Error(Code::kFailedPrecondition, str_cat("exec ", req.exec_id, " not started"));
    }
    r = co_await signal_exec(*found->container, *p, signal);
  }
  if (!r) {
    // The process may have exited while runsc looked for it.
    // runsc's words for a process that is gone (an app container that exited by itself).
    if (p->exit || r.error().message().find("no such process") != std::string::npos) {
      co_return Error(Code::kNotFound, str_cat("process ", req.id, " already finished"));
    }
    auto& c = found->container;
    if (p->is_init() && !c->joins_sandbox && !p->replacing && r.error().code() == Code::kNotFound &&
        p->host_pid > 0) {
      // runsc's state of this sandbox is gone (its --root was removed under us: `runc delete`
      // on a shared root does that), yet the sandbox runs, out of runsc's reach. It is our
      // child: it ends now, as runc's container ends when its state is deleted, and its exit
      // is reported as any other.
      log::warn("kill ", req.id, ": ", r.error().message(), "; killing its sandbox ", p->host_pid);
      ::kill(p->host_pid, SIGKILL);
      co_return Error(Code::kNotFound, str_cat("container ", req.id, " has no runsc state"));
    }
    co_return std::move(r).error().wrap(str_cat("kill ", req.id));
  }
  co_return Empty{};
}

// runsc refuses to signal a container that was created but never started ("in state
// created"), yet containerd must be able to get rid of it (a Start that failed). Any signal
// ends such a container: its sandbox is our child, so it is killed directly and its exit
// arrives through the reaper as for any other death; an app container in a pod has no
// process of its own, so runsc removes it and the exit is reported here.
Task<Result<Empty>> TaskService::kill_unstarted(std::shared_ptr<Container> c) {
  // (pid 0 would signal our own process group: a container waiting for a restore has no
  // sandbox yet.)
  if (!c->joins_sandbox && c->init->host_pid > 0) {
    if (::kill(c->init->host_pid, SIGKILL) != 0 && errno != ESRCH) {
      co_return errno_error(str_cat("kill sandbox of ", c->id));
    }
    co_return Empty{};
  }
  if (c->joins_sandbox) {
    if (auto r = co_await c->runsc->remove(c->id, /*force=*/true); !r) {
      co_return std::move(r).error().wrap(str_cat("kill ", c->id));
    }
  }
  spawn(handle_exit(c, c->init, ExitStatus::now(128 + SIGKILL)));
  co_return Empty{};
}

Task<Result<Empty>> TaskService::close_io(task::CloseIORequest req, ttrpc::CallContext) {
  auto found = find_process(req.id, req.exec_id);
  if (!found) co_return std::move(found).error();
  if (req.stdin && found->process->io) found->process->io->close_stdin();
  co_return Empty{};
}

Task<Result<Empty>> TaskService::resize_pty(task::ResizePtyRequest req, ttrpc::CallContext) {
  auto found = find_process(req.id, req.exec_id);
  if (!found) co_return std::move(found).error();
  // A process whose stdio is gone (exited, or not started) has no terminal to resize.
  if (!found->process->io) co_return Empty{};
  auto& p = found->process;
  if (auto r = p->io->resize(req.width, req.height); !r) co_return std::move(r).error();
  // The host delivers SIGWINCH to a pty's foreground group on the host, and no host process
  // holds the shim's pty: the sandbox's terminal is told, as runsc's exec waiter would.
  if (p->in_sandbox && p->stdio.terminal && p->state == ProcessState::kRunning) {
    auto told = co_await signal_in_sandbox(*found->container, p->internal_pid, SIGWINCH,
                                           SignalTarget::kForegroundGroup);
    if (!told) log::debug("resize ", req.exec_id, ": ", told.error().message());
  }
  co_return Empty{};
}

}  // namespace shim
