// Pause and Resume: the whole sandbox stops and goes on through runsc (the Go shim answered
// "not implemented" here).
#include "base/log.h"
#include "service/task_service.h"

namespace shim {

namespace ev = pb::containerd::events;

Task<Result<Empty>> TaskService::pause(task::PauseRequest req, ttrpc::CallContext) {
  auto c = find_container(req.id);
  if (!c) co_return std::move(c).error();
  Process& init = *(*c)->init;
  if (auto next = next_state(init.state, ProcessEvent::kPause); !next) {
    co_return std::move(next).error().wrap(str_cat("pause ", req.id));
  }
  if (auto r = co_await (*c)->runsc->pause(req.id); !r) {
    co_return std::move(r).error().wrap(str_cat("pause ", req.id));
  }
  // The sandbox may have died meanwhile: then the exit has already moved the state on.
  if (auto r = init.apply(ProcessEvent::kPause); !r) co_return std::move(r).error();
  ev::TaskPaused event;
  event.container_id = req.id;
  events_.paused(event);
  co_return Empty{};
}

Task<Result<Empty>> TaskService::resume(task::ResumeRequest req, ttrpc::CallContext) {
  auto c = find_container(req.id);
  if (!c) co_return std::move(c).error();
  co_return co_await resume_container(*c);
}

Task<Result<Empty>> TaskService::resume_container(std::shared_ptr<Container> c) {
  Process& init = *c->init;
  if (auto next = next_state(init.state, ProcessEvent::kResume); !next) {
    co_return std::move(next).error().wrap(str_cat("resume ", c->id));
  }
  if (auto r = co_await c->runsc->resume(c->id); !r) {
    co_return std::move(r).error().wrap(str_cat("resume ", c->id));
  }
  if (auto r = init.apply(ProcessEvent::kResume); !r) co_return std::move(r).error();
  ev::TaskResumed event;
  event.container_id = c->id;
  events_.resumed(event);
  co_return Empty{};
}

}  // namespace shim
