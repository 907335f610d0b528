// Create, Start, Delete and exits of containers (their init process).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "base/log.h"
#include "base/spawn.h"
#include "cgroups/named_cgroup.h"
#include "process/bundle_record.h"
#include "process/bundle_spec.h"
#include "process/capabilities.h"
#include "process/executable_check.h"
#include "process/ids.h"
#include "process/mount.h"
#include "process/spec_mounts.h"
#include "reactor/deadline.h"
#include "runsc/argv.h"
#include "runsc/control.h"
#include "service/runtime_options.h"
#include "service/task_service.h"

namespace shim {

using namespace std::chrono_literals;
namespace ev = pb::containerd::events;

namespace {

// How long the exit of a process waits for its output to reach containerd, and the init's
// exit for the execs that die with the sandbox. Bounded: a lingering holder of a pipe must
// not keep containerd from learning of the exit.
constexpr auto kOutputDrainLimit = 5s;
constexpr auto kExecExitLimit = 2s;

RunscStdio child_stdio(const io::ProcessIo& io) {
  return RunscStdio{io.child_stdin(), io.child_stdout(), io.child_stderr()};
}

}  // namespace

Task<Result<task::CreateTaskResponse>> TaskService::create(task::CreateTaskRequest req,
                                                           ttrpc::CallContext) {
  if (auto r = validate_id(req.id, "container id"); !r) co_return std::move(r).error();
  if (containers_.contains(req.id) || creating_.contains(req.id)) {
    co_return Error(Code::kAlreadyExists, str_cat("container ", req.id, " already exists"));
  }
  creating_.insert(req.id);
  auto result = co_await create_container(req);
  creating_.erase(req.id);
  if (!result) co_return std::move(result).error().wrap(str_cat("create ", req.id));
  co_return std::move(result);
}

Task<Result<task::CreateTaskResponse>> TaskService::create_container(
    const task::CreateTaskRequest& req) {
  auto options = decode_runtime_options(req.options);
  if (!options) co_return std::move(options).error();
  auto config = shim_config_for(*options);
  if (!config) co_return std::move(config).error();
  // An app container of a pod (CRI) is created inside the pod's sandbox, which this shim
  // already serves; anything else gets a sandbox of its own.
  auto spec = read_bundle_spec(req.bundle);
  bool joins = spec && spec->joins_sandbox(req.id);
  std::string sandbox_id = joins ? spec->sandbox_id : req.id;
  if (joins && !containers_.contains(sandbox_id)) {
    co_return Error(Code::kFailedPrecondition,
                    str_cat("pod sandbox ", sandbox_id, " is not served by this shim"));
  }
  auto runsc = Runsc::for_sandbox(ctx_.runner, std::move(*config), ctx_.ns, sandbox_id, req.bundle);
  if (!runsc) co_return std::move(runsc).error();

  auto c = std::make_shared<Container>();
  c->id = req.id;
  c->bundle = req.bundle;
  c->ns = ctx_.ns;
  c->runsc = std::make_unique<Runsc>(std::move(*runsc));
  c->sandbox_id = sandbox_id;
  c->joins_sandbox = joins;
  c->direct_exec = c->runsc->config().direct_exec;
  if (spec) {
    const nlohmann::json& doc = spec->document;
    c->cgroups_path = string_field(doc.value("linux", nlohmann::json()), "cgroupsPath");
    nlohmann::json process = doc.value("process", nlohmann::json());
    nlohmann::json caps =
        process.is_object() ? process.value("capabilities", nlohmann::json()) : nlohmann::json();
    c->exec_defaults = {{"cwd", string_field(process, "cwd")}, {"capabilities", caps}};
    nlohmann::json linux = doc.value("linux", nlohmann::json());
    if (linux.is_object() && linux.contains("resources")) {
      auto requested = cgroups::parse_linux_resources(linux["resources"].dump());
      if (requested) {
        c->requested = std::move(*requested);
      } else {
        log::debug("container ", req.id, ": its resources are not ones a cgroup update applies: ",
                   requested.error().message());
      }
    }
  }
  c->init = std::make_shared<Process>();
  Process& init = *c->init;
  c->io_uid = options->io_uid;
  c->io_gid = options->io_gid;
  init.stdio =
      io::StdioConfig{req.stdin, req.stdout, req.stderr, req.terminal, c->io_uid, c->io_gid};

  if (options->systemd_cgroup) {
    RunscFeatures features = co_await runsc_features(*c->runsc);
    if (!features.systemd_cgroup()) {
      co_return Error(Code::kInvalidArgument,
                      str_cat("SystemdCgroup: runsc release ", features.release_date,
                              " has no systemd cgroup mode (from release 20220321 on)"));
    }
  }
  BundleRecord record{options->config_path, options->binary_name, options->root, sandbox_id,
                      !req.rootfs.empty()};
  if (auto r = write_bundle_record(req.bundle, record); !r) co_return std::move(r).error();
  if (!req.rootfs.empty()) {
    std::vector<MountSpec> mounts;
    for (const auto& m : req.rootfs) mounts.push_back(MountSpec{m.type, m.source, m.options});
    std::string target = req.bundle + "/rootfs";
    ::mkdir(target.c_str(), 0711);
    if (auto r = mount_all(mounts, target); !r) co_return std::move(r).error();
    c->rootfs = target;
  }
  if (spec) {
    if (auto r = co_await prepare_spec(c, *spec); !r) {
      co_await discard(c);
      co_return std::move(r).error();
    }
  }

  // containerd names the image it unpacked; a client may name its own (runc's CriuImagePath).
  std::string restore_image = req.checkpoint.empty() ? options->restore_image : req.checkpoint;
  if (!restore_image.empty()) {
    // `runsc restore` creates and starts in one step: it happens at Start, stdio and all.
    c->checkpoint = restore_image;
    containers_[req.id] = c;
    publish_create(req, 0);
    co_return task::CreateTaskResponse{};
  }

  auto opened = io::ProcessIo::open(ctx_.reactor, ctx_.reaper, init.stdio, ctx_.ns, req.id);
  if (!opened) {
    co_await discard(c);
    co_return std::move(opened).error();
  }
  init.io = std::move(*opened);
  // Named locals, not temporaries, in co_await calls: GCC 12 mishandles the latter.
  std::string pid_file = req.bundle + "/init.pid";
  // An app container gets its stdio at start; a sandbox's root container here.
  RunscStdio stdio = joins ? RunscStdio{} : child_stdio(*init.io);
  auto pid =
      co_await c->runsc->create(req.id, req.bundle, pid_file, stdio, init.io->console_socket());
  if (!pid) {
    co_await discard(c);
    co_return std::move(pid).error();
  }
  // The sandbox exits with the container's status; it is our child (subreaper), so its exit
  // is ours to reap, even if it came before this line.
  init.pid = init.host_pid = *pid;
  if (!joins) {
    watch_exit(c, c->init);
    watch_cgroup(c);
  } else if (auto pod = Cgroup::for_pid(containers_[sandbox_id]->init->host_pid)) {
    c->cgroup = std::move(*pod);  // stats of the pod's sandbox; its OOM watch is the pod's
  }
  if (!joins) {
    if (auto r = co_await init.io->attach(); !r) {
      co_await discard(c);
      co_return std::move(r).error();
    }
  }
  containers_[req.id] = c;

  publish_create(req, init.pid);
  log::info("created container ", req.id, " sandbox pid ", init.pid);

  task::CreateTaskResponse resp;
  resp.pid = static_cast<uint32_t>(init.pid);
  co_return resp;
}

Task<RunscFeatures> TaskService::runsc_features(Runsc& runsc) {
  const std::string& binary = runsc.config().binary_name;
  if (auto known = runsc_features_.find(binary); known != runsc_features_.end()) {
    co_return known->second;
  }
  RunscFeatures features = co_await runsc.features();
  runsc_features_[binary] = features;
  co_return features;
}

Task<bool> TaskService::drop_unknown_capabilities(Container& c, nlohmann::json& process) {
  // Only a process that names the newest capabilities needs to know the runsc's version.
  constexpr int kOldestKnownCount = RunscFeatures{20221219}.capability_count();
  if (!names_capabilities_from(process, kOldestKnownCount)) co_return false;
  RunscFeatures features = co_await runsc_features(*c.runsc);
  auto dropped = drop_unknown_granted_capabilities(process, features.capability_count(),
                                                   own_effective_capabilities());
  if (dropped.empty()) co_return false;
  log::debug("container ", c.id, ": dropping capabilities runsc release ", features.release_date,
             " does not know: ", join_argv(dropped));
  co_return true;
}

Task<Result<void>> TaskService::prepare_spec(std::shared_ptr<Container> c, BundleSpec& spec) {
  if (auto r = check_executable(spec.document, c->bundle); !r) co_return std::move(r).error();
  auto process = spec.document.find("process");
  if (process == spec.document.end()) co_return ok();
  if (!co_await drop_unknown_capabilities(*c, *process)) co_return ok();
  co_return write_bundle_spec(c->bundle, spec.document);
}

void TaskService::publish_create(const task::CreateTaskRequest& req, pid_t pid) {
  ev::TaskCreate event;
  event.container_id = req.id;
  event.bundle = req.bundle;
  event.rootfs = req.rootfs;
  event.io = ev::TaskIO{req.stdin, req.stdout, req.stderr, req.terminal};
  event.checkpoint = req.checkpoint;
  event.pid = static_cast<uint32_t>(pid);
  events_.create(event);
}

Task<void> TaskService::discard(std::shared_ptr<Container> c) {
  bool removed = false;
  if (c->releasing) removed = co_await c->released;
  if (!removed) {
    if (auto r = co_await c->runsc->remove(c->id, /*force=*/true); !r) {
      log::debug("discard ", c->id, ": ", r.error().message());
    }
  }
  if (c->init) c->init->io.reset();
  c->oom.reset();
  if (!c->rootfs.empty()) {
    if (auto r = unmount_all(c->rootfs); !r) log::warn(r.error().message());
  }
  // runsc leaves the per-sandbox root directory itself behind, and a sandbox's cgroups when
  // it died booting; an app container shares its pod's.
  if (!c->joins_sandbox) {
    ::rmdir(c->runsc->state_root().c_str());
    if (!c->cgroups_path.empty()) remove_empty_cgroup(c->cgroups_path);
  }
}

Task<Result<task::StartResponse>> TaskService::start(task::StartRequest req, ttrpc::CallContext) {
  auto found = find_process(req.id, req.exec_id);
  if (!found) co_return std::move(found).error();
  auto& p = found->process;
  if (p->starting) {
    co_return Error(Code::kFailedPrecondition, str_cat("start of ", req.id, " already under way"));
  }
  if (auto next = next_state(p->state, ProcessEvent::kStart); !next) {
    co_return std::move(next).error().wrap(str_cat("start ", req.id));
  }
  p->starting = true;
  Result<task::StartResponse> result = Error(Code::kInternal, "start");
  if (p->is_init()) {
    result = co_await start_init(found->container);
  } else {
    result = co_await start_exec(found->container, p);
  }
  p->starting = false;
  p->start_finished.set(result.ok());
  if (!result && !p->is_init()) p->never_ran.set(true);
  if (!result) co_return std::move(result).error().wrap(str_cat("start ", req.id));
  co_return result;
}

Task<Result<task::StartResponse>> TaskService::start_init(std::shared_ptr<Container> c) {
  Process& init = *c->init;
  if (!c->checkpoint.empty()) {
    if (auto r = co_await restore_sandbox(c, c->checkpoint); !r) {
      co_return std::move(r).error().wrap("restore");
    }
  } else if (c->joins_sandbox) {
    RunscStdio stdio = child_stdio(*init.io);
    if (auto r = co_await c->runsc->start(c->id, stdio); !r) {
      // Nothing took the container's stdio: its exit (the Kill that follows) must not wait
      // for output that can never end.
      init.io->close_child_ends();
      co_return std::move(r).error();
    }
    if (auto r = co_await init.io->attach(); !r) co_return std::move(r).error();
    // No host process exits with an app container: runsc reports its exit.
    spawn(wait_app_exit(c));
  } else if (auto r = co_await c->runsc->start(c->id); !r) {
    co_return std::move(r).error();
  }
  if (auto r = init.apply(ProcessEvent::kStart); !r) co_return std::move(r).error();
  ev::TaskStart event;
  event.container_id = c->id;
  event.pid = static_cast<uint32_t>(init.pid);
  events_.start(event);
  task::StartResponse resp;
  resp.pid = static_cast<uint32_t>(init.pid);
  co_return resp;
}

Task<Result<void>> TaskService::restore_sandbox(std::shared_ptr<Container> c, std::string image) {
  Process& init = *c->init;
  if (auto spec = read_bundle_spec(c->bundle)) {
    if (auto r = make_mount_points(spec->document, c->bundle); !r) co_return std::move(r).error();
  }
  auto opened = io::ProcessIo::open(ctx_.reactor, ctx_.reaper, init.stdio, ctx_.ns, c->id);
  if (!opened) co_return std::move(opened).error();
  std::unique_ptr<io::ProcessIo> fresh = std::move(*opened);
  std::string pid_file = c->bundle + "/init.pid";
  RunscStdio stdio = child_stdio(*fresh);
  auto pid =
      co_await c->runsc->restore(c->id, c->bundle, image, pid_file, stdio, fresh->console_socket());
  if (!pid) co_return std::move(pid).error();
  init.host_pid = *pid;
  init.pid = *pid;
  watch_exit(c, c->init);
  watch_cgroup(c);
  init.io = std::move(fresh);
  co_return co_await init.io->attach();
}

Task<void> TaskService::wait_app_exit(std::shared_ptr<Container> c) {
  // Through the sandbox's control socket; `runsc wait` (a process per container) only if
  // this runsc keeps that socket somewhere else.
  Result<int> code = Error(Code::kInternal, "not waited");
  if (auto control = connect_sandbox_control(c->runsc->state_root(), c->sandbox_id)) {
    code = co_await wait_via_control(ctx_.reactor, std::move(*control), c->id);
  } else {
    log::debug("wait for ", c->id, " with runsc wait: ", control.error().message());
    code = co_await c->runsc->wait(c->id);
  }
  if (!code) {
    // The pod's sandbox went away under it (or runsc failed): it was killed.
    log::warn("wait for ", c->id, ": ", code.error().message());
  }
  co_await handle_exit(c, c->init, ExitStatus::now(code ? *code : 128 + SIGKILL));
}

void TaskService::watch_exit(std::shared_ptr<Container> c, std::shared_ptr<Process> p) {
  ctx_.reaper.on_exit(p->host_pid,
                      [this, c, p](ExitStatus status) { spawn(handle_exit(c, p, status)); });
}

Task<void> TaskService::handle_exit(std::shared_ptr<Container> c, std::shared_ptr<Process> p,
                                    ExitStatus status) {
  if (p->replacing) {
    p->replaced_exit.set(status);
    co_return;
  }
  p->exit = status;
  // containerd must see /tasks/start before /tasks/exit, even for a process that exits at once.
  if (p->starting) co_await p->start_finished;
  if (p->is_init()) {
    // The execs die with the sandbox; their exits go out first.
    for (auto& [id, exec] : c->execs) {
      if (exec->state == ProcessState::kRunning || exec->state == ProcessState::kPaused) {
        co_await wait_with_deadline(ctx_.reactor, exec->exit_published,
                                    std::chrono::milliseconds(kExecExitLimit));
      }
    }
  }
  if (p->io) co_await p->io->drained(std::chrono::milliseconds(kOutputDrainLimit));
  // The OOM notification and the exit race: look once more, so /tasks/oom goes first.
  if (p->is_init() && c->oom) c->oom->check_now();
  bool deleted = p->state == ProcessState::kDeleted;
  if (!deleted && p->apply(ProcessEvent::kExit)) {
    ev::TaskExit event;
    event.container_id = c->id;
    event.id = p->is_init() ? c->id : p->exec_id;
    event.pid = static_cast<uint32_t>(p->pid);
    event.exit_status = static_cast<uint32_t>(status.code);
    event.exited_at = to_timestamp(status.at);
    events_.exit(event);
    log::info("container ", c->id, p->is_init() ? "" : " exec ", p->exec_id, " exited with ",
              status.code);
  }
  p->exit_published.set(status);
  // containerd's Delete follows in a few ms: `runsc delete` (about 40 ms) starts now.
  if (p->is_init() && !deleted && can_release(*c)) spawn(release(c));
}

bool TaskService::can_release(const Container& c) const {
  if (c.joins_sandbox || c.releasing || c.init->state != ProcessState::kStopped) return false;
  // A pod's sandbox container goes last: its app containers' runsc state lives in its root.
  for (const auto& [id, other] : containers_) {
    if (other->joins_sandbox && other->sandbox_id == c.id) return false;
  }
  return true;
}

Task<void> TaskService::release(std::shared_ptr<Container> c) {
  c->releasing = true;
  // The cgroup goes with the sandbox: nothing to watch or measure any more.
  c->oom.reset();
  c->cgroup.reset();
  auto removed = co_await c->runsc->remove(c->id, /*force=*/true);
  if (!removed) log::debug("release ", c->id, ": ", removed.error().message());
  c->released.set(removed.ok());
}

Task<Result<task::DeleteResponse>> TaskService::remove(task::DeleteRequest req,
                                                       ttrpc::CallContext) {
  auto found = find_process(req.id, req.exec_id);
  if (!found) co_return std::move(found).error();
  auto& p = found->process;
  if (auto next = next_state(p->state, ProcessEvent::kDelete); !next) {
    co_return std::move(next).error().wrap(str_cat("delete ", req.id));
  }
  if (p->is_init()) co_return co_await remove_init(found->container);

  if (p->state == ProcessState::kCreated) p->never_ran.set(true);
  (void)p->apply(ProcessEvent::kDelete);
  found->container->execs.erase(p->exec_id);
  p->io.reset();
  task::DeleteResponse resp;
  resp.pid = static_cast<uint32_t>(p->pid);
  ExitStatus exit = p->exit.value_or(ExitStatus{});
  resp.exit_status = static_cast<uint32_t>(exit.code);
  resp.exited_at = p->exit ? to_timestamp(exit.at) : timestamp_now();
  co_return resp;
}

Task<Result<task::DeleteResponse>> TaskService::remove_init(std::shared_ptr<Container> c) {
  Process& init = *c->init;
  bool never_ran = init.state == ProcessState::kCreated;
  (void)init.apply(ProcessEvent::kDelete);
  containers_.erase(c->id);
  co_await discard(c);
  if (never_ran && !init.exit && !c->joins_sandbox && init.host_pid > 0) {
    // Force-deleting a created sandbox kills it: give the reaper a moment for its status.
    // (A restore not yet started has no sandbox, hence no exit to wait for.)
    co_await wait_with_deadline(ctx_.reactor, init.exit_published, 2000ms);
  }
  // A Wait on what will never exit now (no sandbox was ever made: a restore not yet started;
  // an exec never started) ends here.
  if (never_ran && !init.exit_published.ready()) init.never_ran.set(true);
  for (auto& [id, exec] : c->execs) {
    exec->io.reset();
    if (exec->state == ProcessState::kCreated) exec->never_ran.set(true);
  }

  ExitStatus exit = init.exit.value_or(ExitStatus{137, {}});
  auto exited_at = init.exit ? to_timestamp(exit.at) : timestamp_now();
  ev::TaskDelete event;
  event.container_id = c->id;
  event.id = c->id;
  event.pid = static_cast<uint32_t>(init.pid);
  event.exit_status = static_cast<uint32_t>(exit.code);
  event.exited_at = exited_at;
  events_.remove(event);
  log::info("deleted container ", c->id);

  task::DeleteResponse resp;
  resp.pid = static_cast<uint32_t>(init.pid);
  resp.exit_status = static_cast<uint32_t>(exit.code);
  resp.exited_at = exited_at;
  co_return resp;
}

}  // namespace shim
