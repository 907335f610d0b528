// Checkpoint: runsc writes the sandbox's state into the directory containerd names (or the one
// the client's options name); a later Create that names that directory restores it (at Start,
// through `runsc restore`).
#include <sys/stat.h>

#include "base/file.h"
#include "base/log.h"
#include "reactor/deadline.h"
#include "service/runtime_options.h"
#include "service/task_service.h"

namespace shim {

namespace ev = pb::containerd::events;

Task<Result<Empty>> TaskService::checkpoint(task::CheckpointTaskRequest req, ttrpc::CallContext) {
  auto c = find_container(req.id);
  if (!c) co_return std::move(c).error();
  auto& container = *c;
  auto options = decode_checkpoint_options(req.options);
  if (!options) co_return std::move(options).error().wrap(str_cat("checkpoint ", req.id));
  // Where the client asked (runc's ImagePath), else where containerd collects it from.
  std::string path = options->image_path.empty() ? req.path : options->image_path;
  if (path.empty()) co_return Error(Code::kInvalidArgument, "checkpoint: no image path");
  ProcessState state = container->init->state;
  if (state != ProcessState::kRunning && state != ProcessState::kPaused) {
    co_return Error(Code::kFailedPrecondition,
                    str_cat("cannot checkpoint a ", state_name(state), " container ", req.id));
  }
  if (container->init->replacing) {
    co_return Error(Code::kFailedPrecondition, str_cat("checkpoint of ", req.id, " under way"));
  }
  if (auto r = make_dirs(path, 0700); !r) co_return std::move(r).error();
  // runsc panics checkpointing a paused sandbox: resume it for the checkpoint, pause again.
  bool was_paused = state == ProcessState::kPaused;
  if (was_paused) {
    if (auto r = co_await container->runsc->resume(req.id); !r) co_return std::move(r).error();
  }
  Result<void> r;
  if (options->exit) {
    // The sandbox stops; its exit is published as any other.
    r = co_await container->runsc->checkpoint(req.id, path, /*leave_running=*/false);
  } else {
    r = co_await checkpoint_in_place(container, path);
    if (r && was_paused) {
      if (auto p = co_await container->runsc->pause(req.id); !p) log::warn(p.error().message());
    }
  }
  if (!r) co_return std::move(r).error().wrap(str_cat("checkpoint ", req.id));
  ev::TaskCheckpointed event;
  event.container_id = req.id;
  event.checkpoint = path;
  events_.checkpointed(event);
  co_return Empty{};
}

// This runsc's `checkpoint --leave-running` restores into a new sandbox that it waits on
// itself, so the call never returns (measured). Instead: checkpoint (the sandbox stops),
// then restore the image under the same id with fresh stdio, as the container's new sandbox.
Task<Result<void>> TaskService::checkpoint_in_place(std::shared_ptr<Container> c,
                                                    std::string path) {
  Process& init = *c->init;
  init.replaced_exit = Oneshot<ExitStatus>();
  init.replacing = true;
  auto checkpointed = co_await c->runsc->checkpoint(c->id, path, /*leave_running=*/false);
  if (!checkpointed) {
    init.replacing = false;
    if (init.replaced_exit.ready()) spawn(handle_exit(c, c->init, init.replaced_exit.peek()));
    co_return std::move(checkpointed).error();
  }
  ExitStatus old_exit{137, {}};
  if (co_await wait_with_deadline(ctx_.reactor, init.replaced_exit, std::chrono::seconds(10))) {
    old_exit = init.replaced_exit.peek();
  }
  (void)co_await c->runsc->remove(c->id, /*force=*/true);
  if (init.io) co_await init.io->drained(std::chrono::milliseconds(1000));

  auto restored = co_await restore_sandbox(c, path);
  init.replacing = false;
  if (!restored) {
    // The old sandbox is gone and no new one came: the container has exited.
    spawn(handle_exit(c, c->init, old_exit));
    co_return std::move(restored).error().wrap("restore after checkpoint");
  }
  co_return ok();
}

}  // namespace shim
