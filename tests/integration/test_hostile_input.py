"""Hostile input on a live shim's socket (issue 5): broken frames, oversized frames, random
bytes, a flood of connections, ids that try to escape, unknown exec ids, calls in the wrong
state, peers that vanish with a call parked or never read their replies, and a peer of
another uid. The shim is the one containerd started for a live `sleep` container; after each
test it must still serve (Connect answers) and hold exactly the fds it held before.

Codes (google.rpc): INVALID_ARGUMENT 3, NOT_FOUND 5, ALREADY_EXISTS 6, RESOURCE_EXHAUSTED 8,
FAILED_PRECONDITION 9 (docs/containerd-contract.md).
"""

import json
import os
import random
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest

import sanitizer_reports
import ttrpc_client as tt
from tasks import diag, kill_and_remove, start_detached, unique, wait_for
from tasks import report
from test_resilience import assert_clean, shim_pid_of

RESOURCE_EXHAUSTED = 8
NS_KEY = "containerd-namespace-ttrpc"
PROCESS_SPEC_URL = "types.containerd.io/opencontainers/runtime-spec/1/Process"


class Live:
    """The live container and its shim."""

    def __init__(self, cd, cid):
        self.cd, self.cid = cd, cid
        self.socket = str(cd.socket_path(cid))
        self.pid = shim_pid_of(cd, cid)
        self.meta = [(NS_KEY, cd.ns)]

    def fds(self):
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def client(self, timeout=5.0):
        return tt.Client(self.socket, timeout=timeout)

    def call(self, method, payload=b"", client=None):
        if client is not None:
            return client.call(tt.TASK, method, payload, metadata=self.meta)
        with self.client() as c:
            return c.call(tt.TASK, method, payload, metadata=self.meta)

    def serves(self):
        """Connect on a new connection answers with our pid."""
        code, msg, payload = self.call("Connect", tt.field_bytes(1, self.cid))
        assert code == tt.OK, msg
        resp = tt.decode(payload)
        return tt.first(resp, 1) == self.pid and tt.first(resp, 2, 0) > 0


@pytest.fixture(scope="module")
def live(containerd):
    cd = containerd.bound(containerd.new_namespace("hostile"))
    cid = unique(cd, "target")
    start_detached(cd, cid)
    lv = Live(cd, cid)
    time.sleep(1.5)  # idle: the shim trims itself after 1 s quiet; no call in flight
    lv.start_fds = lv.fds()
    yield lv
    assert lv.serves()
    kill_and_remove(cd, cid, expect_status=137)
    assert_clean(cd)


@pytest.fixture
def shim(live):
    """The live shim, checked after the test: still serving, and back at its fd count (the
    test's connections are closed by then; the shim may take a loop turn to notice)."""
    before = live.fds()
    yield live
    assert os.path.exists(f"/proc/{live.pid}"), "the shim died"
    assert live.serves(), "the shim no longer answers Connect"
    assert wait_for(lambda: live.fds() == before, 5, 0.05), (
        f"shim fds {before} -> {live.fds()}: {sorted(os.listdir(f'/proc/{live.pid}/fd'))}")
    assert before == live.start_fds, f"fds at start {live.start_fds}, before this test {before}"


def header(length, stream, ftype=tt.TYPE_REQUEST, flags=0):
    return tt.HEADER.pack(length, stream, ftype, flags)


def request(method, payload=b"", service=tt.TASK, meta=()):
    req = tt.field_bytes(1, service) + tt.field_bytes(2, method) + tt.field_bytes(3, payload)
    for key, value in meta:
        req += tt.field_bytes(5, tt.field_bytes(1, key) + tt.field_bytes(2, value))
    return req


def response_status(data):
    status = tt.decode(tt.first(tt.decode(data), 1, b""))
    return tt.first(status, 1, 0), tt.first(status, 2, b"").decode(errors="replace")


def read_until_quiet(sock, quiet=0.3, limit=5.0):
    """Everything the server sends until it is quiet for `quiet` s (or closes)."""
    sock.settimeout(quiet)
    data, deadline = b"", time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionError:
            break
        if not chunk:
            break
        data += chunk
    return data


# -- frames ------------------------------------------------------------------------------


def test_truncated_frames(shim):
    cases = [
        b"\x00\x00",                                          # half a header
        header(100, 1)[:9],                                   # all but the last header byte
        header(100, 1) + b"\x0a\x05",                         # header, then 2 of 100 bytes
        header(200, 1) + request("Connect")[:10],             # a request cut short
        header(4 << 20, 1) + b"x" * 1000,                     # 4 MiB announced, 1000 sent
        header(5 << 20, 1) + b"x" * 70000,                    # oversized, cut short
    ]
    for raw in cases:
        with shim.client() as c:
            c.sock.sendall(raw)
        # The half frame died with its connection; a new one is served.
        assert shim.serves(), raw[:20]
    # Closing only the write side: the shim must not answer the half frame, nor hang on it.
    with shim.client() as c:
        c.sock.sendall(header(50, 1) + b"abc")
        c.sock.shutdown(socket.SHUT_WR)
        assert read_until_quiet(c.sock, quiet=1.0) == b""


def test_oversized_frame_answered_and_connection_kept(shim):
    with shim.client(timeout=30) as c:
        size = 5 << 20
        c.sock.sendall(header(size, 1) + os.urandom(size))
        stream, ftype, _, data = c.recv_frame()
        assert (stream, ftype) == (1, tt.TYPE_RESPONSE)
        code, msg = response_status(data)
        assert code == RESOURCE_EXHAUSTED, (code, msg)
        # The same connection is still in sync and served.
        c.next_stream = 3
        code, msg, payload = shim.call("Connect", tt.field_bytes(1, shim.cid), client=c)
        assert code == tt.OK, msg
        assert tt.first(tt.decode(payload), 1) == shim.pid


def test_malformed_frames_on_one_connection(shim):
    """Each broken frame gets its answer (or is ignored), and the connection stays usable."""
    with shim.client() as c:
        # An even stream id: INVALID_ARGUMENT on that stream.
        c.send_frame(2, tt.TYPE_REQUEST, request("Connect"))
        stream, _, _, data = c.recv_frame()
        assert (stream, response_status(data)[0]) == (2, tt.INVALID_ARGUMENT)
        # A request that is not protobuf: INVALID_ARGUMENT.
        c.send_frame(1, tt.TYPE_REQUEST, b"\xff\xff\xff\xff\xff")
        stream, _, _, data = c.recv_frame()
        assert (stream, response_status(data)[0]) == (1, tt.INVALID_ARGUMENT)
        # A Task request whose payload is not protobuf: INVALID_ARGUMENT.
        c.send_frame(3, tt.TYPE_REQUEST, request("State", b"\x0a\xff\x01"))
        stream, _, _, data = c.recv_frame()
        assert (stream, response_status(data)[0]) == (3, tt.INVALID_ARGUMENT)
        # Unknown service and method: UNIMPLEMENTED.
        c.send_frame(5, tt.TYPE_REQUEST, request("Nope", service="no.such.Service"))
        stream, _, _, data = c.recv_frame()
        assert (stream, response_status(data)[0]) == (5, tt.UNIMPLEMENTED)
        # Responses, data frames and unknown types from a client are ignored.
        for ftype in (tt.TYPE_RESPONSE, 3, 7, 255):
            c.send_frame(7, ftype, b"junk")
        c.send_frame(9, tt.TYPE_REQUEST, request("Connect", tt.field_bytes(1, shim.cid)),
                     flags=0xff)
        stream, _, _, data = c.recv_frame()
        assert (stream, response_status(data)[0]) == (9, tt.OK)
        c.next_stream = 11
        assert shim.call("Connect", tt.field_bytes(1, shim.cid), client=c)[0] == tt.OK


def test_random_bytes(shim):
    rng = random.Random(5)
    for round_ in range(20):
        blob = bytes(rng.getrandbits(8) for _ in range(rng.choice((1, 7, 64, 4096, 65536))))
        with shim.client() as c:
            try:
                c.sock.sendall(blob)
            except ConnectionError:
                pass
            read_until_quiet(c.sock, quiet=0.05, limit=1)
        assert shim.serves(), round_
    # Random bodies in well-formed frames: each is answered (or ignored), never fatal.
    with shim.client() as c:
        for i in range(200):
            body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 300)))
            c.send_frame(2 * i + 1, tt.TYPE_REQUEST, body)
        answers = read_until_quiet(c.sock, quiet=0.5)
    assert len(answers) >= 200 * tt.HEADER.size
    assert shim.serves()


def test_256_connections_at_once(shim, capsys):
    """256 clients connect at once, as fast as they can, each calling Connect: all are answered.
    A connect is tried once, non-blocking, as Go's net.Dial does for unix sockets (containerd
    is a Go client): a full listen backlog is EAGAIN there, not a wait. Refused ones are then
    connected again, blocking, so the answers are checked for all 256 either way."""
    n = 256
    t0 = time.monotonic()
    clients, refused = [], 0
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(shim.socket)
            except BlockingIOError:  # EAGAIN: the listen backlog is full
                refused += 1
                s.setblocking(True)
                s.connect(shim.socket)
            s.settimeout(20)
            c = tt.Client.__new__(tt.Client)
            c.sock, c.next_stream = s, 1
            clients.append(c)
        for c in clients:
            c.send_frame(1, tt.TYPE_REQUEST,
                         request("Connect", tt.field_bytes(1, shim.cid), meta=shim.meta))
        answered = 0
        for c in clients:
            stream, ftype, _, data = c.recv_frame()
            code, msg = response_status(data)
            assert (stream, ftype, code) == (1, tt.TYPE_RESPONSE, tt.OK), msg
            payload = tt.first(tt.decode(data), 2, b"")
            assert tt.first(tt.decode(payload), 1) == shim.pid
            answered += 1
        took = time.monotonic() - t0
        peak = shim.fds()
    finally:
        for c in clients:
            c.close()
    report(capsys, f"{n} concurrent connections answered Connect in {took * 1000:.0f} ms "
                   f"(shim fds peak {peak}); {refused} connects refused with EAGAIN first")
    assert answered == n
    assert peak >= n, f"the shim held {peak} fds with {n} connections open"
    assert refused == 0, (f"{refused} of {n} non-blocking connects got EAGAIN: the shim's listen "
                          "backlog (128, src/shim/socket_address.cc) overflowed")


def test_256_connections_while_the_shim_is_busy(shim, capsys):
    """The same burst while the shim's loop is busy for a moment (here: SIGSTOPped for 200 ms;
    in life, a fork of runsc, a mount, paging back in after the idle trim). Every connect is
    tried once, non-blocking, as a Go client (containerd) dials a unix socket: what does not
    fit in the listen backlog is refused with EAGAIN."""
    n = 256
    socks, refused = [], 0
    os.kill(shim.pid, signal.SIGSTOP)
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(shim.socket)
                socks.append(s)
            except BlockingIOError:
                refused += 1
                s.close()
        time.sleep(0.2)
    finally:
        os.kill(shim.pid, signal.SIGCONT)
    try:
        answered = 0
        for s in socks:
            s.settimeout(20)
            c = tt.Client.__new__(tt.Client)
            c.sock, c.next_stream = s, 1
            code, msg, _ = shim.call("Connect", tt.field_bytes(1, shim.cid), client=c)
            assert code == tt.OK, msg
            answered += 1
    finally:
        for s in socks:
            s.close()
    report(capsys, f"burst of {n} connects into a stopped shim: {len(socks)} queued, "
                   f"{refused} refused (EAGAIN), {answered} answered after SIGCONT")
    assert refused == 0, (f"{refused} of {n} connects refused with EAGAIN: listen backlog 128 "
                          "(src/shim/socket_address.cc listen_unix)")


# -- ids and states --------------------------------------------------------------------------


BAD_IDS = ["a/b", "../../../etc", "..", ".", "/abs", "a\0b", "x" * 300, "", "-lead", "\xff\xfe",
           "a b", "a\nb"]


def test_hostile_ids(shim):
    for bad in BAD_IDS:
        raw = bad.encode("latin-1") if bad == "\xff\xfe" else bad.encode()
        create = (tt.field_bytes(1, raw) + tt.field_bytes(2, "/tmp/does-not-matter")
                  + tt.field_bytes(10, tt.field_bytes(2, tt.field_bytes(1, "/nonexistent.toml"))))
        code, msg, _ = shim.call("Create", create)
        assert code == tt.INVALID_ARGUMENT, (bad, code, msg)
        for method, payload in (("State", tt.field_bytes(1, raw)),
                                ("Kill", tt.field_bytes(1, raw) + tt.field_varint(3, 9)),
                                ("Delete", tt.field_bytes(1, raw)),
                                ("Start", tt.field_bytes(1, raw)),
                                ("Wait", tt.field_bytes(1, raw)),
                                ("Pids", tt.field_bytes(1, raw)),
                                ("Pause", tt.field_bytes(1, raw)),
                                ("Stats", tt.field_bytes(1, raw))):
            code, msg, _ = shim.call(method, payload)
            assert code in (tt.NOT_FOUND, tt.INVALID_ARGUMENT), (method, bad, code, msg)
        # Exec ids are checked as strictly as container ids.
        code, msg, _ = shim.call("Exec", tt.field_bytes(1, shim.cid) + tt.field_bytes(2, raw)
                                 + exec_spec(["true"]))
        assert code == tt.INVALID_ARGUMENT, ("Exec", bad, code, msg)
    # Nothing of those ids reached runsc's state or the filesystem.
    ns_root = f"/run/containerd/runsc/{shim.cd.ns}"
    assert sorted(os.listdir(ns_root)) == [shim.cid], os.listdir(ns_root)


def test_create_refused_for_existing_or_bad_bundle(shim):
    # The live container's own id: ALREADY_EXISTS, and the container is untouched.
    code, msg, _ = shim.call("Create", tt.field_bytes(1, shim.cid) + tt.field_bytes(2, "/tmp"))
    assert code == tt.ALREADY_EXISTS, (code, msg)
    # A valid new id with a bundle that does not exist: an error, and nothing is left.
    other = f"ghost-{shim.cd.token}"
    code, msg, _ = shim.call("Create", tt.field_bytes(1, other)
                             + tt.field_bytes(2, f"/nonexistent-{shim.cd.token}"))
    assert code not in (tt.OK,), msg
    assert shim.call("State", tt.field_bytes(1, other))[0] == tt.NOT_FOUND
    assert not os.path.exists(f"/run/containerd/runsc/{shim.cd.ns}/{other}")
    code, msg, payload = shim.call("State", tt.field_bytes(1, shim.cid))
    assert code == tt.OK and tt.first(tt.decode(payload), 4) == 2, (code, msg)  # RUNNING


def exec_spec(args):
    spec = json.dumps({"args": args, "cwd": "/", "env": ["PATH=/bin"],
                       "user": {"uid": 0, "gid": 0}})
    return tt.field_bytes(7, tt.field_bytes(1, PROCESS_SPEC_URL) + tt.field_bytes(2, spec))


def test_unknown_exec_ids(shim):
    for method, extra in (("State", b""), ("Kill", tt.field_varint(3, 9)), ("Delete", b""),
                          ("Start", b""), ("Wait", b""), ("CloseIO", tt.field_varint(3, 1)),
                          ("ResizePty", tt.field_varint(3, 80) + tt.field_varint(4, 24))):
        code, msg, _ = shim.call(method, tt.field_bytes(1, shim.cid) + tt.field_bytes(2, "nope")
                                 + extra)
        assert code == tt.NOT_FOUND, (method, code, msg)


def test_second_start_of_running_container(shim):
    code, msg, _ = shim.call("Start", tt.field_bytes(1, shim.cid))
    assert code == tt.FAILED_PRECONDITION, (code, msg)
    code, msg, payload = shim.call("State", tt.field_bytes(1, shim.cid))
    assert code == tt.OK and tt.first(tt.decode(payload), 4) == 2, (code, msg)  # still RUNNING


def test_duplicate_exec_id(shim):
    first = tt.field_bytes(1, shim.cid) + tt.field_bytes(2, "dup") + exec_spec(["true"])
    code, msg, _ = shim.call("Exec", first)
    assert code == tt.OK, msg
    try:
        code, msg, _ = shim.call("Exec", first)
        assert code == tt.ALREADY_EXISTS, (code, msg)
        code, msg, payload = shim.call("State", tt.field_bytes(1, shim.cid)
                                       + tt.field_bytes(2, "dup"))
        assert code == tt.OK and tt.first(tt.decode(payload), 4, 0) == 1, (code, msg)  # CREATED
        # An exec without a spec is refused too.
        code, msg, _ = shim.call("Exec", tt.field_bytes(1, shim.cid) + tt.field_bytes(2, "nospec"))
        assert code == tt.INVALID_ARGUMENT, (code, msg)
    finally:
        code, msg, _ = shim.call("Delete", tt.field_bytes(1, shim.cid) + tt.field_bytes(2, "dup"))
    assert code == tt.OK, msg
    code, msg, _ = shim.call("State", tt.field_bytes(1, shim.cid) + tt.field_bytes(2, "dup"))
    assert code == tt.NOT_FOUND, (code, msg)


@pytest.mark.parametrize("how", ["start fails", "deleted unstarted"])
def test_wait_on_an_exec_that_never_runs_ends(shim, how):
    """containerd waits on an exec before it starts it, and never cancels that call: when the
    exec then fails to start (its binary is missing) or is deleted unstarted, the parked Wait
    must end (as runc's shim ends it), not hold the process until the connection goes."""
    eid = "neverran" + how.split()[0]
    ids = tt.field_bytes(1, shim.cid) + tt.field_bytes(2, eid)
    code, msg, _ = shim.call("Exec", ids + exec_spec(["/nonexistent"]))
    assert code == tt.OK, msg
    with shim.client(timeout=10) as waiter:
        waiter.send_frame(1, tt.TYPE_REQUEST, request("Wait", ids, meta=shim.meta))
        if how == "start fails":
            code, msg, _ = shim.call("Start", ids)
            assert code != tt.OK and "/nonexistent" in msg, (code, msg)
        else:
            code, msg, _ = shim.call("Delete", ids)
            assert code == tt.OK, msg
        stream, ftype, _, data = waiter.recv_frame()  # a socket timeout here: still parked
        assert (stream, ftype) == (1, tt.TYPE_RESPONSE)
        code, msg = response_status(data)
        assert code == tt.FAILED_PRECONDITION and "never ran" in msg, (code, msg)
    if how == "start fails":
        code, msg, _ = shim.call("Delete", ids)
        assert code == tt.OK, msg


def test_shutdown_from_a_stranger_keeps_a_busy_shim(shim):
    code, msg, _ = shim.call("Shutdown", tt.field_bytes(1, "nope") + tt.field_varint(2, 1))
    assert code == tt.OK, msg
    time.sleep(0.5)
    assert os.path.exists(f"/proc/{shim.pid}")


# -- peers that misbehave --------------------------------------------------------------------


def smaps_rollup(pid):
    values = {}
    for line in open(f"/proc/{pid}/smaps_rollup").read().splitlines()[1:]:
        key, value = line.split(":", 1)
        values[key] = int(value.split()[0])
    return values


def test_peer_leaves_with_a_wait_parked(shim, capsys):
    """Wait parks until the container exits. A peer that goes away with Waits parked (ctr
    killed while attached; containerd restarting with CRI's per-container Wait in flight)
    cannot get an answer any more: what the shim keeps for those calls must go with the
    connection, or every such peer costs memory for the container's whole life."""
    time.sleep(1.5)  # idle: the shim gives back free heap after 1 s quiet
    before = smaps_rollup(shim.pid)
    n = 5000
    for round_ in range(n // 1000):
        c = shim.client()
        for i in range(1000):
            c.send_frame(2 * i + 1, tt.TYPE_REQUEST,
                         request("Wait", tt.field_bytes(1, shim.cid), meta=shim.meta))
        assert shim.serves()  # all of them parked (read) by the time Connect is answered
        c.close()
    assert shim.serves()
    time.sleep(2.5)  # the shim notices the closes, then goes idle and trims
    after = smaps_rollup(shim.pid)
    growth = after["Rss"] - before["Rss"]
    report(capsys, f"{n} Waits parked then abandoned: shim Rss {before['Rss']} -> {after['Rss']} "
                   f"kB, Private_Dirty {before['Private_Dirty']} -> {after['Private_Dirty']} kB")
    if not sanitizer_reports.ACTIVE:  # measured on the normal build (scripts/test.sh)
        assert growth < 1024, (
            f"{n} abandoned Waits still hold {growth} kB ({growth * 1024 // n} bytes each) after "
            "their connections closed")


def test_peer_that_never_reads(shim):
    """20000 State calls whose replies are never read: the shim must not block on the peer
    (it drops it once 16 MiB are queued, or answers all into the socket buffer)."""
    c = shim.client(timeout=30)
    one = request("State", tt.field_bytes(1, shim.cid), meta=shim.meta)
    batch = b"".join(header(len(one), 2 * i + 1) + one for i in range(20000))
    try:
        c.sock.sendall(batch)
    except ConnectionError:
        pass
    # Meanwhile other clients are served promptly.
    t0 = time.monotonic()
    assert shim.serves()
    assert time.monotonic() - t0 < 2
    c.close()


# -- the socket's owner ------------------------------------------------------------------------


CLIENT = r"""
import json, socket, struct, sys
path, payload = sys.argv[1], bytes.fromhex(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
try:
    s.connect(path)
except OSError as e:
    print(json.dumps({"connect": type(e).__name__})); sys.exit(0)
try:
    s.sendall(struct.pack(">IIBB", len(payload), 1, 1, 0) + payload)
    data = s.recv(65536)
    print(json.dumps({"connect": "ok", "reply": data.hex()}))
except OSError as e:
    print(json.dumps({"connect": "ok", "error": type(e).__name__}))
"""


def as_nobody(shim, caps):
    """Runs CLIENT as uid nobody; with caps, CAP_DAC_OVERRIDE lets it past the socket's
    mode, so only the shim's SO_PEERCRED check stands in the way."""
    payload = request("Connect", tt.field_bytes(1, shim.cid), meta=shim.meta)
    argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    if caps:
        argv += ["--inh-caps=+dac_override", "--ambient-caps=+dac_override"]
    argv += [sys.executable, "-c", CLIENT, shim.socket, payload.hex()]
    r = subprocess.run(argv, capture_output=True, timeout=20)
    assert r.returncode == 0, r
    return json.loads(r.stdout)


def test_socket_is_owner_only(shim):
    st = os.stat(shim.socket)
    assert stat.S_ISSOCK(st.st_mode)
    assert (st.st_mode & 0o777, st.st_uid) == (0o600, 0), oct(st.st_mode)
    # Without privileges, the mode keeps another uid out.
    assert as_nobody(shim, caps=False) == {"connect": "PermissionError"}


def test_other_uid_is_refused_by_the_shim(shim):
    since = len(shim.cd.log_text())
    got = as_nobody(shim, caps=True)
    # Connected (the kernel let it past the mode), then closed by the shim unanswered.
    assert got.get("connect") == "ok", got
    assert got.get("reply", "") == "", got
    assert got.get("error") in (None, "ConnectionResetError", "BrokenPipeError"), got
    assert wait_for(lambda: "rejecting connection from uid 65534"
                    in shim.cd.log_text()[since:], 5), diag(shim.cd, since=since)
