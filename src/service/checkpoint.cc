// Checkpoint: runsc writes the sandbox's state into the directory containerd names; a later
// Create that names that directory restores it (at Start, through `runsc restore`).
#include <sys/stat.h>

#include "base/log.h"
#include "reactor/deadline.h"
#include "service/task_service.h"

namespace shim {

namespace ev = pb::containerd::events;

namespace {

// containerd.runc.v1.CheckpointOptions field 1 is `bool exit`: stop the container once
// checkpointed. It is the only option runsc can honour; decoded by hand (one varint field)
// rather than generating runc's options for it.
bool exit_after_checkpoint(const std::optional<pb::google::protobuf::Any>& options) {
  if (!options || !options->type_url.ends_with("CheckpointOptions")) return false;
  // Fields are written in number order, so a set `exit` comes first: tag 0x08, then 1.
  const std::string& v = options->value;
  return v.size() >= 2 && v[0] == 0x08 && v[1] != 0;
}

}  // namespace

Task<Result<Empty>> TaskService::checkpoint(task::CheckpointTaskRequest req, ttrpc::CallContext) {
  auto c = find_container(req.id);
  if (!c) co_return std::move(c).error();
  auto& container = *c;
  if (req.path.empty()) co_return Error(Code::kInvalidArgument, "checkpoint: no image path");
  ProcessState state = container->init->state;
  if (state != ProcessState::kRunning && state != ProcessState::kPaused) {
    co_return Error(Code::kFailedPrecondition,
                    str_cat("cannot checkpoint a ", state_name(state), " container ", req.id));
  }
  if (container->init->replacing) {
    co_return Error(Code::kFailedPrecondition, str_cat("checkpoint of ", req.id, " under way"));
  }
  ::mkdir(req.path.c_str(), 0700);
  // runsc panics checkpointing a paused sandbox: resume it for the checkpoint, pause again.
  bool was_paused = state == ProcessState::kPaused;
  if (was_paused) {
    if (auto r = co_await container->runsc->resume(req.id); !r) co_return std::move(r).error();
  }
  Result<void> r;
  if (exit_after_checkpoint(req.options)) {
    // The sandbox stops; its exit is published as any other.
    r = co_await container->runsc->checkpoint(req.id, req.path, /*leave_running=*/false);
  } else {
    r = co_await checkpoint_in_place(container, req.path);
    if (r && was_paused) {
      if (auto p = co_await container->runsc->pause(req.id); !p) log::warn(p.error().message());
    }
  }
  if (!r) co_return std::move(r).error().wrap(str_cat("checkpoint ", req.id));
  ev::TaskCheckpointed event;
  event.container_id = req.id;
  event.checkpoint = req.path;
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
