// Checkpoint: runsc writes the sandbox's state into the directory containerd names; a later
// Create that names that directory restores it (at Start, through `runsc restore`).
#include <sys/stat.h>

#include "base/log.h"
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
  ::mkdir(req.path.c_str(), 0700);
  // runsc panics checkpointing a paused sandbox: resume it for the checkpoint, pause again.
  bool was_paused = state == ProcessState::kPaused;
  if (was_paused) {
    if (auto r = co_await container->runsc->resume(req.id); !r) co_return std::move(r).error();
  }
  bool leave_running = !exit_after_checkpoint(req.options);
  auto r = co_await container->runsc->checkpoint(req.id, req.path, leave_running);
  if (was_paused && leave_running) {
    if (auto p = co_await container->runsc->pause(req.id); !p) log::warn(p.error().message());
  }
  if (!r) co_return std::move(r).error().wrap(str_cat("checkpoint ", req.id));
  ev::TaskCheckpointed event;
  event.container_id = req.id;
  event.checkpoint = req.path;
  events_.checkpointed(event);
  co_return Empty{};
}

}  // namespace shim
