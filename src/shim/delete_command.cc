#include "shim/delete_command.h"

#include <signal.h>
#include <unistd.h>

#include <climits>
#include <cstdio>

#include "base/file.h"
#include "base/log.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "process/bundle_record.h"
#include "process/ids.h"
#include "process/mount.h"
#include "reactor/command.h"
#include "runsc/argv.h"
#include "runsc/runsc.h"
#include "service/runtime_options.h"
#include "service/task_events.h"
#include "shim/socket_address.h"

namespace shim {
namespace {

Task<void> force_delete(Runsc& runsc, std::string id, Reactor& reactor) {
  // runsc panics deleting a paused sandbox; resuming one that is not paused just fails.
  (void)co_await runsc.resume(id);
  if (auto r = co_await runsc.remove(id, /*force=*/true); !r) {
    log::warn("delete ", id, ": ", r.error().message());
  }
  reactor.stop();
}

// Runs `runsc delete --force` for the container, bounded by the driver's own deadline.
void delete_sandbox(const ShimFlags& flags, const std::string& bundle, const BundleRecord& record) {
  RuntimeOptions options;
  options.config_path = record.config_path;
  options.binary_name = record.runsc_binary;
  options.root = record.runsc_root;
  auto config = shim_config_for(options);
  if (!config) {
    log::warn(config.error().message());
    return;
  }
  std::string sandbox = record.sandbox_id.empty() ? flags.id : record.sandbox_id;
  // containerd runs `delete` after every shim disconnect, also after a clean Delete, which
  // already removed the sandbox's runsc root: then there is nothing to do, and `ctr run --rm`
  // waits for this process (each runsc call would cost it ~150 ms, the reactor a few syscalls).
  auto state_root = runsc_argv::sandbox_state_root(*config, flags.ns, sandbox);
  if (state_root && !path_exists(*state_root)) return;
  auto reactor = Reactor::create();
  if (!reactor) return;
  auto reaper = ChildReaper::create(**reactor);
  if (!reaper) return;
  CommandRunner runner(**reactor, **reaper);
  auto runsc = Runsc::for_sandbox(runner, std::move(*config), flags.ns, sandbox, bundle);
  if (!runsc) {
    log::warn(runsc.error().message());
    return;
  }
  spawn(force_delete(*runsc, flags.id, **reactor));
  (void)(*reactor)->run();
  ::rmdir(runsc->state_root().c_str());
}

}  // namespace

int run_delete_command(const ShimFlags& flags) {
  // stdout carries the DeleteResponse; our notes go to stderr, which containerd logs.
  log::set_output(STDERR_FILENO);
  if (auto r = validate_id(flags.id, "id"); !r) {
    std::fprintf(stderr, "delete: %s\n", r.error().message().c_str());
    return 1;
  }
  std::string bundle = flags.bundle;
  if (bundle.empty()) {
    char buf[PATH_MAX];
    if (::getcwd(buf, sizeof buf)) bundle = buf;
  }
  auto record = read_bundle_record(bundle);
  BundleRecord rec = record ? *record : BundleRecord{};
  delete_sandbox(flags, bundle, rec);
  if (auto r = unmount_all(bundle + "/rootfs"); !r) log::warn(r.error().message());
  ::unlink(socket_path(socket_address(flags.address, flags.ns, flags.id)).c_str());

  pb::containerd::task::v2::DeleteResponse resp;
  resp.exit_status = 128 + SIGKILL;
  resp.exited_at = timestamp_now();
  std::string out = resp.encode();
  return write_all(STDOUT_FILENO, out).ok() ? 0 : 1;
}

}  // namespace shim
