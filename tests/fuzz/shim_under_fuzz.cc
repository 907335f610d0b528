#include "shim_under_fuzz.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "base/file.h"
#include "base/strings.h"
#include "github.com/containerd/containerd/api/services/ttrpc/events/v1/events.pb.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "ttrpc.pb.h"

namespace shim::fuzz {

using namespace std::chrono_literals;

namespace {

constexpr std::string_view kNamespace = "fuzz";

UniqueFd listen_on(const std::string& path) {
  ::unlink(path.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd.get(), 16) != 0) {
    report_finding(str_cat("listen on ", path, ": errno ", errno));
  }
  return fd;
}

UniqueFd connect_to(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  // A unix socket connects at once while the listener's backlog has room.
  if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    report_finding(str_cat("connect to ", path, ": errno ", errno));
  }
  return fd;
}

// containerd's side of Events/Forward: every event is taken.
Task<Result<std::string>> accept_event(std::string payload, ttrpc::CallContext) {
  co_return std::string();
}

void shutdown_requested() {}

}  // namespace

void report_finding(std::string_view what) {
  std::fprintf(stderr, "fuzz_task_server: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

std::vector<pid_t> child_pids(const std::vector<pid_t>& before) {
  std::vector<pid_t> pids;
  auto text = read_file(str_cat("/proc/self/task/", ::syscall(SYS_gettid), "/children"));
  if (!text) return pids;
  for (std::string_view rest = *text; !rest.empty();) {
    size_t space = rest.find(' ');
    std::string_view word = rest.substr(0, space);
    int pid = 0;
    if (!word.empty() && parse_int(word, pid) &&
        std::find(before.begin(), before.end(), pid) == before.end()) {
      pids.push_back(pid);
    }
    if (space == std::string_view::npos) break;
    rest.remove_prefix(space + 1);
  }
  return pids;
}

bool is_runsc_call(pid_t child) {
  // A zombie awaits its reaping, which is work: its exit has not been handled yet.
  auto stat = read_file(str_cat("/proc/", child, "/stat"));
  if (!stat) return false;  // gone meanwhile
  size_t paren = stat->rfind(')');
  bool zombie = paren != std::string::npos && paren + 2 < stat->size() && (*stat)[paren + 2] == 'Z';
  auto comm = read_file(str_cat("/proc/", child, "/comm"));
  return zombie || !comm || trim(*comm) != "sleep";
}

ShimUnderFuzz::ShimUnderFuzz(const Scratch& scratch)
    : scratch_(scratch), children_before_(child_pids()), sanitizer_(scratch.paths) {
  auto reactor = Reactor::create();
  if (!reactor) report_finding(reactor.error().message());
  reactor_ = std::move(*reactor);
  auto reaper = ChildReaper::create(*reactor_);
  if (!reaper) report_finding(reaper.error().message());
  reaper_ = std::move(*reaper);
  runner_ = std::make_unique<CommandRunner>(*reactor_, *reaper_);

  events_sink_ = std::make_unique<ttrpc::Server>(*reactor_);
  events_sink_->register_method(
      std::string(pb::containerd::services::events::ttrpc::v1::kEventsServiceName), "Forward",
      accept_event);
  if (auto r = events_sink_->serve(listen_on(scratch_.events_socket)); !r) {
    report_finding(r.error().message());
  }
  publisher_ = std::make_unique<events::EventPublisher>(*reactor_, scratch_.events_socket);

  server_ = std::make_unique<ttrpc::Server>(*reactor_);
  service_ = std::make_unique<TaskService>(ServiceContext{
      *reactor_, *reaper_, *runner_, *publisher_, std::string(kNamespace), shutdown_requested});
  service_->register_methods(*server_);
  if (auto r = server_->serve(listen_on(scratch_.task_socket)); !r) {
    report_finding(r.error().message());
  }
  connect();  // containerd's first connection
}

ShimUnderFuzz::~ShimUnderFuzz() { teardown(); }

ShimUnderFuzz::Client* ShimUnderFuzz::current() {
  if (clients_.empty()) connect();
  return clients_[current_].get();
}

void ShimUnderFuzz::connect() {
  if (clients_.size() >= kMaxConnections) return;
  auto client = std::make_unique<Client>();
  client->fd = connect_to(scratch_.task_socket);
  clients_.push_back(std::move(client));
  current_ = clients_.size() - 1;
}

void ShimUnderFuzz::send(Client& client, std::string_view bytes, size_t hold) {
  if (client.write_closed) return;
  while (!bytes.empty()) {
    if (client.skip_left > 0) {
      size_t n = std::min<size_t>(client.skip_left, bytes.size());
      client.unsent.append(bytes.substr(0, n));
      client.skip_left -= static_cast<uint32_t>(n);
      bytes.remove_prefix(n);
      continue;
    }
    size_t want = ttrpc::kHeaderSize;
    if (client.partial.size() >= ttrpc::kHeaderSize) {
      ttrpc::FrameHeader header = ttrpc::decode_header(client.partial.data());
      want += header.length;
    }
    size_t n = std::min(want - client.partial.size(), bytes.size());
    client.partial.append(bytes.substr(0, n));
    bytes.remove_prefix(n);
    if (client.partial.size() < want) continue;
    ttrpc::Frame frame;
    frame.header = ttrpc::decode_header(client.partial.data());
    if (client.partial.size() == ttrpc::kHeaderSize && frame.header.length > ttrpc::kMaxDataSize) {
      // What the server will answer (RESOURCE_EXHAUSTED, once the body has passed).
      ++client.owed[frame.header.stream_id];
      client.unsent += client.partial;
      client.skip_left = frame.header.length;
      client.partial.clear();
      continue;
    }
    if (client.partial.size() == ttrpc::kHeaderSize && frame.header.length > 0) continue;
    frame.data = client.partial.substr(ttrpc::kHeaderSize);
    client.partial.clear();
    // Every request frame is answered, an even stream id with an error.
    if (frame.header.type == static_cast<uint8_t>(ttrpc::FrameType::kRequest)) {
      ++client.owed[frame.header.stream_id];
    }
    client.unsent += sanitizer_.frame_bytes(frame);
  }
  client.held = std::min(hold, client.unsent.size());
  flush(client);
}

void ShimUnderFuzz::flush(Client& client) {
  while (client.unsent.size() > client.held) {
    ssize_t n = ::send(client.fd.get(), client.unsent.data(), client.unsent.size() - client.held,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Full (the server reads later), or the server closed this connection.
      if (n < 0 && errno != EAGAIN) client.unsent.clear();
      return;
    }
    client.unsent.erase(0, static_cast<size_t>(n));
  }
}

void ShimUnderFuzz::end_writes(Client& client) {
  if (client.write_closed) return;
  // Nothing can complete the partial frame now: it goes out as it is and is discarded.
  client.unsent += client.partial;
  client.partial.clear();
  client.held = 0;
  flush(client);
  ::shutdown(client.fd.get(), SHUT_WR);
  client.write_closed = true;
}

void ShimUnderFuzz::close_current() {
  if (clients_.empty()) return;
  end_writes(*clients_[current_]);
  clients_.erase(clients_.begin() + static_cast<long>(current_));
  current_ = clients_.empty() ? 0 : clients_.size() - 1;
}

void ShimUnderFuzz::read_replies() {
  for (auto& client : clients_) {
    flush(*client);
    read_replies(*client);
  }
}

void ShimUnderFuzz::read_replies(Client& client) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(client.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    client.replies.feed(std::string_view(buf, static_cast<size_t>(n)));
  }
  while (auto frame = client.replies.next()) {
    uint32_t sid = frame->header.stream_id;
    if (frame->header.type != static_cast<uint8_t>(ttrpc::FrameType::kResponse)) {
      report_finding(str_cat("the server sent a frame of type ", frame->header.type));
    }
    pb::ttrpc::Response resp;
    if (!resp.decode(frame->data)) report_finding("a response that does not decode");
    auto owed = client.owed.find(sid);
    if (owed == client.owed.end() || owed->second == 0) {
      report_finding(str_cat("a reply on stream ", sid, ", which has no request waiting"));
    }
    --owed->second;
  }
}

void ShimUnderFuzz::run_turns(int turns) {
  for (int i = 0; i < turns; ++i) {
    Reactor* reactor = reactor_.get();
    reactor_->post([reactor] { reactor->stop(); });
    (void)reactor_->run();
  }
}

void ShimUnderFuzz::settle(std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  int quiet = 0;
  while (std::chrono::steady_clock::now() < until) {
    bool busy = false;
    for (pid_t child : child_pids(children_before_)) {
      // A child killed by the teardown is work until it is reaped: the signal is async.
      bool killed = std::find(killed_.begin(), killed_.end(), child) != killed_.end();
      busy = busy || killed || is_runsc_call(child);
    }
    if (busy) {
      // A child's exit wakes the loop; the timer only bounds the wait.
      Reactor* reactor = reactor_.get();
      auto timer = reactor_->call_after(1ms, [reactor] { reactor->stop(); });
      (void)reactor_->run();
      reactor_->cancel(timer);
    } else {
      run_turns(1);
    }
    read_replies();
    quiet = busy ? 0 : quiet + 1;
    if (quiet >= 3) return;
  }
}

void ShimUnderFuzz::run(const Action& action) {
  switch (action.op) {
    case Op::kSend:
      send(*current(), action.bytes, action.arg);
      break;
    case Op::kTurns:
      run_turns(action.arg + 1);
      read_replies();
      break;
    case Op::kSettle:
      settle(std::chrono::milliseconds(20 * (action.arg + 1)));
      break;
    case Op::kConnect:
      connect();
      break;
    case Op::kClose:
      close_current();
      break;
    case Op::kSwitch:
      if (!clients_.empty()) current_ = action.arg % clients_.size();
      break;
    case Op::kHalfClose:
      end_writes(*current());
      break;
    case Op::kRead:
      read_replies();
      break;
  }
}

template <class Pred>
void ShimUnderFuzz::run_while(Pred more, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (more() && std::chrono::steady_clock::now() < until) {
    Reactor* reactor = reactor_.get();
    auto timer = reactor_->call_after(1ms, [reactor] { reactor->stop(); });
    (void)reactor_->run();
    reactor_->cancel(timer);
    read_replies();
  }
}

void ShimUnderFuzz::kill_children() {
  for (int round = 0; round < 4; ++round) {
    killed_ = child_pids(children_before_);
    if (killed_.empty()) return;
    for (pid_t child : killed_) ::kill(child, SIGKILL);
    settle(3000ms);
  }
}

void ShimUnderFuzz::teardown() {
  // containerd goes away: every parked call is cancelled, every call under way finishes.
  while (!clients_.empty()) close_current();
  settle(500ms);
  // What containerd would kill: every sandbox, and any runsc call still running.
  kill_children();
  if (!sanitizer_.created_ids().empty()) {
    connect();
    Client& client = *current();
    uint32_t stream = 1;
    for (const std::string& id : sanitizer_.created_ids()) {
      pb::containerd::task::v2::DeleteRequest del;
      del.id = id;
      pb::ttrpc::Request req;
      req.service = pb::containerd::task::v2::kTaskServiceName;
      req.method = "Delete";
      req.payload = del.encode();
      std::string frame;
      ttrpc::append_frame(frame, stream, ttrpc::FrameType::kRequest, req.encode());
      stream += 2;
      send(client, frame, 0);
    }
    auto owed = [&client] {
      for (const auto& [sid, n] : client.owed) {
        if (n > 0) return true;
      }
      return false;
    };
    run_while(owed, 5000ms);
    close_current();
    kill_children();
  }
  if (size_t left = service_->container_count(); left != 0) {
    report_finding(str_cat(left, " containers left after the Delete of every created id"));
  }
  // What is still scheduled (an exit waiting for its execs, a drain limit) runs out, so no
  // coroutine is parked on a timer when the reactor goes. Bounded by the shim's own limits.
  Reactor& reactor = *reactor_;
  run_while([&reactor] { return reactor.pending_timers() > 0; }, 6000ms);
  service_.reset();
  server_.reset();
  publisher_.reset();
  run_turns(4);  // a cancelled Forward ends on a later turn
  events_sink_.reset();
  run_turns(2);
  if (auto left = child_pids(children_before_); !left.empty()) {
    report_finding(str_cat(left.size(), " child processes left after the teardown"));
  }
  runner_.reset();
  reaper_.reset();
  reactor_.reset();
}

}  // namespace shim::fuzz
