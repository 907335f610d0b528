// Delete of a container through the real TaskService, on the reactor, with a fake runsc
// (tests/fake_runsc/ok.sh) named by the TOML the Create's options give.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "base/file.h"
#include "base/strings.h"
#include "events/publisher.h"
#include "github.com/containerd/containerd/pkg/runtimeoptions/v1/api.pb.h"
#include "reactor/child_reaper.h"
#include "reactor/command.h"
#include "common/run_task.h"
#include "reactor/reactor.h"
#include "service/task_service.h"

namespace shim {
namespace {

using namespace std::chrono_literals;

class DeleteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/service-delete-test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    toml_ = dir_ + "/runsc.toml";
    ASSERT_TRUE(write_file_atomic(toml_, str_cat("binary_name = \"", FAKE_RUNSC_DIR,
                                                 "/ok.sh\"\nroot = \"", dir_, "/state\"\n"))
                    .ok());
    reactor_ = std::move(*Reactor::create());
    reaper_ = std::move(*ChildReaper::create(*reactor_));
    runner_ = std::make_unique<CommandRunner>(*reactor_, *reaper_);
    // Nothing listens there: events stay queued, as while containerd is away.
    publisher_ =
        std::make_unique<events::EventPublisher>(*reactor_, dir_ + "/containerd.sock.ttrpc");
    service_ = std::make_unique<TaskService>(
        ServiceContext{*reactor_, *reaper_, *runner_, *publisher_, "ns", [] {}});
  }
  void TearDown() override {
    service_.reset();
    publisher_.reset();
    (void)system(str_cat("rm -rf ", dir_).c_str());
  }

  task::CreateTaskRequest create_request(const std::string& id) {
    task::CreateTaskRequest req;
    req.id = id;
    req.bundle = str_cat(dir_, "/", id);
    ::mkdir(req.bundle.c_str(), 0700);
    pb::runtimeoptions::v1::Options options;
    options.config_path = toml_;
    req.options.emplace();
    req.options->type_url = "runtimeoptions.v1.Options";
    req.options->value = options.encode();
    return req;
  }

  // Runs the loop until `task` completes (or a safety timeout fires).
  void run(Task<void> task) {
    ASSERT_TRUE(testing::run_task(*reactor_, std::move(task))) << "task did not finish";
  }

  std::string dir_, toml_;
  std::unique_ptr<Reactor> reactor_;
  std::unique_ptr<ChildReaper> reaper_;
  std::unique_ptr<CommandRunner> runner_;
  std::unique_ptr<events::EventPublisher> publisher_;
  std::unique_ptr<TaskService> service_;
};

struct Outcome {
  bool created = false;
  std::optional<Result<task::DeleteResponse>> deleted;
  std::chrono::steady_clock::duration delete_took{};
};

Task<void> create_then_delete(TaskService& service, task::CreateTaskRequest create, Outcome& out) {
  // Named locals, not braced temporaries, in co_await calls (GCC 12; docs/style.md).
  std::string id = create.id;
  ttrpc::CallContext create_ctx;
  auto created = co_await service.create(std::move(create), create_ctx);
  out.created = created.ok();
  if (!created) co_return;
  task::DeleteRequest del;
  del.id = id;
  auto t0 = std::chrono::steady_clock::now();
  ttrpc::CallContext delete_ctx;
  out.deleted.emplace(co_await service.remove(std::move(del), delete_ctx));
  out.delete_took = std::chrono::steady_clock::now() - t0;
}

// A Create that names a checkpoint makes no sandbox (`runsc restore` runs at Start): its
// Delete has no exit to wait for, and once waited 2 s for one anyway (fuzz_task_server).
TEST_F(DeleteTest, DeleteOfAnUnstartedRestoreDoesNotWaitForASandbox) {
  auto req = create_request("c1");
  req.checkpoint = dir_ + "/image";
  Outcome out;
  run(create_then_delete(*service_, std::move(req), out));
  ASSERT_TRUE(out.created);
  ASSERT_TRUE(out.deleted && out.deleted->ok()) << out.deleted->error().message();
  EXPECT_EQ((*out.deleted)->exit_status, 137u);
  EXPECT_LT(out.delete_took, 1s);
  EXPECT_EQ(service_->container_count(), 0u);
}

}  // namespace
}  // namespace shim
