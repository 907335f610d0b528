#!/usr/bin/python3
"""Seeds for fuzz_task_server from real containerd traffic.

    sudo tests/fuzz/capture_task_server_corpus.py [--shim PATH] [--out DIR]

Starts a private containerd (tests/integration/harness.py) whose runsc shim is this very
script: run as `containerd-shim-runsc-v1` it hands `start` to the real shim (--shim, default
$SHIM_BINARY or build/), then puts a proxy between containerd and the shim's socket, which
records every byte containerd writes, per connection. ctr then drives the flows the fuzzer
should start from: `ctr run --rm`, a detached run with ps, exec, pause/resume, metrics, kill
and delete. The recordings are written as fuzz_task_server scripts (task_server_script.h):
each session whole, each cut short after a call that leaves work under way (so a Wait stays
parked into the teardown), the session with its connection closed right after its Wait, and
each method's first call alone. Needs root,
containerd, ctr and runsc: what the integration tests need.
"""

import argparse
import hashlib
import json
import os
import selectors
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "tests" / "fuzz" / "corpus" / "task_server"
SHIM_NAME = "containerd-shim-runsc-v1"
TASK_SERVICE = "containerd.task.v2.Task"

# The script's ops (task_server_script.h): low 3 bits the op, high 5 bits its argument.
OP_SEND, OP_TURNS, OP_SETTLE, OP_CONNECT, OP_CLOSE, OP_SWITCH = 0, 1, 2, 3, 4, 5
# After a call: up to (4 + 1) * 20 ms for the fake runsc it runs.
SETTLE_AFTER_CALL = 4


# -- as the shim: start the real one, then proxy and record ------------------------------

def run_as_shim():
    real = os.environ["CAPTURE_REAL_SHIM"]
    if sys.argv[-1] != "start":
        os.execv(real, [real, *sys.argv[1:]])
    # containerd writes the runtime options to start's stdin and reads the address it prints.
    r = subprocess.run([real, *sys.argv[1:]], stdin=sys.stdin, capture_output=True)
    if r.returncode != 0:
        sys.stderr.buffer.write(r.stderr)
        sys.exit(r.returncode)
    address = r.stdout.decode().strip()
    record_dir = Path(os.environ["CAPTURE_DIR"])
    proxy_path = str(record_dir / f"p{os.getpid()}.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(proxy_path)
    listener.listen(16)
    if os.fork() == 0:
        # The proxy must not hold start's stdout: containerd waits for it to close.
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        if os.fork() == 0:
            proxy(listener, address.removeprefix("unix://"),
                  record_dir / f"session-{time.time_ns()}-{os.getpid()}.jsonl")
        os._exit(0)
    listener.close()
    print(f"unix://{proxy_path}", end="")
    sys.stdout.flush()
    os._exit(0)


def proxy(listener, shim_path, record_path):
    """Relays containerd's connections to the shim until the shim's socket is gone."""
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, ("listen", None))
    peers = {}  # socket -> (other socket, conn number or None for the shim's side)
    next_conn = 0
    with open(record_path, "a") as log:
        def note(**event):
            log.write(json.dumps(dict(event, t=time.monotonic())) + "\n")
            log.flush()

        def close_pair(sock, conn):
            other, _ = peers.pop(sock)
            peers.pop(other, None)
            for s in (sock, other):
                sel.unregister(s)
                s.close()
            note(conn=conn, event="close")

        while True:
            for key, _ in sel.select(timeout=0.5):
                kind, conn = key.data
                if kind == "listen":
                    client, _ = listener.accept()
                    shim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    shim.connect(shim_path)
                    conn, next_conn = next_conn, next_conn + 1
                    peers[client], peers[shim] = (shim, conn), (client, None)
                    sel.register(client, selectors.EVENT_READ, ("client", conn))
                    sel.register(shim, selectors.EVENT_READ, ("shim", conn))
                    note(conn=conn, event="open")
                    continue
                sock = key.fileobj
                if sock not in peers:
                    continue
                data = sock.recv(65536)
                if not data:
                    close_pair(sock, conn)
                    continue
                peers[sock][0].sendall(data)
                if kind == "client":
                    note(conn=conn, event="data", hex=data.hex())
            if not peers and not os.path.exists(shim_path):
                os._exit(0)


# -- as the capture: drive containerd, turn recordings into scripts ----------------------

def frames_of(data):
    """Splits a byte stream into whole ttrpc frames (a torn tail is kept as it is)."""
    out = []
    while len(data) >= 10:
        length = struct.unpack(">I", data[:4])[0]
        if len(data) < 10 + length:
            break
        out.append(data[:10 + length])
        data = data[10 + length:]
    if data:
        out.append(data)
    return out


def method_of(frame):
    """The method name of a request frame, read from its protobuf (field 2), or ''."""
    body, at = frame[10:], 0
    while at < len(body):
        key, at = read_varint(body, at)
        if key & 7 != 2:
            return ""
        length, at = read_varint(body, at)
        if key >> 3 == 2:
            return body[at:at + length].decode(errors="replace")
        at += length
    return ""


def read_varint(data, at):
    value, shift = 0, 0
    while at < len(data):
        b = data[at]
        at += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            break
        shift += 7
    return value, at


def send(frame, hold=0):
    return bytes([hold << 3 | OP_SEND]) + struct.pack("<H", len(frame)) + frame


def op(code, arg=0):
    return bytes([arg << 3 | code])


def read_session(path):
    """[(conn, 'open'|'close'|frame bytes)] in the order containerd did them."""
    steps, pending = [], {}
    for line in path.read_text().splitlines():
        event = json.loads(line)
        conn = event["conn"]
        if event["event"] == "data":
            pending[conn] = pending.get(conn, b"") + bytes.fromhex(event["hex"])
            whole = frames_of(pending[conn])
            complete = [f for f in whole if len(f) >= 10 and
                        len(f) == 10 + struct.unpack(">I", f[:4])[0]]
            pending[conn] = b"".join(whole[len(complete):])
            steps += [(conn, f) for f in complete]
        else:
            steps.append((conn, event["event"]))
    return steps


def script_of(steps, close_after_wait=False):
    """A fuzz_task_server script replaying `steps`; the first connection is open already."""
    out, open_conns, seen_first = b"", [], False
    for conn, step in steps:
        if step == "open":
            if seen_first:
                out += op(OP_CONNECT)
            seen_first = True
            open_conns.append(conn)
        elif step == "close":
            if conn in open_conns:
                out += op(OP_SWITCH, open_conns.index(conn)) + op(OP_CLOSE)
                open_conns.remove(conn)
        else:
            if conn not in open_conns:
                continue
            out += op(OP_SWITCH, open_conns.index(conn)) + send(step) + op(OP_SETTLE,
                                                                           SETTLE_AFTER_CALL)
            if close_after_wait and method_of(step) == "Wait":
                return out + op(OP_CLOSE) + op(OP_SETTLE, SETTLE_AFTER_CALL)
    return out


# Where a session is cut short: after the calls that leave something under way (a parked Wait,
# a running container or exec, a paused one, a kill whose exit is still to come).
CUT_AFTER = {"Start", "Wait", "Exec", "Pause", "Kill"}


def seeds_of(name, steps, singles):
    """{file name: script} for one recorded session; `singles`: methods already seeded alone."""
    calls = [(i, method_of(s)) for i, (_, s) in enumerate(steps) if isinstance(s, bytes)]
    seeds = {f"{name}-whole": script_of(steps)}
    for n, (i, method) in enumerate(calls):
        if method in CUT_AFTER:
            seeds[f"{name}-upto-{n:02d}-{method}"] = script_of(steps[:i + 1])
        if method not in singles:
            singles.add(method)
            seeds[f"single-{method}"] = send(steps[i][1]) + op(OP_SETTLE, 0)
    if any(m == "Wait" for _, m in calls):
        seeds[f"{name}-close-after-wait"] = script_of(steps, close_after_wait=True)
    return seeds


def capture(shim, out_dir):
    sys.path.insert(0, str(REPO / "tests" / "integration"))
    import harness
    import tasks

    record_dir = Path(tempfile.mkdtemp(prefix="capture-", dir="/tmp"))
    os.environ["CAPTURE_REAL_SHIM"] = str(shim)
    os.environ["CAPTURE_DIR"] = str(record_dir)
    flows = {}
    with tempfile.TemporaryDirectory(prefix="shimtest-rootfs-") as tmp:
        rootfs = harness.build_busybox_rootfs(Path(tmp) / "rootfs")
        with harness.Containerd(shim=Path(__file__).resolve(), rootfs=rootfs) as c:
            cd = c.bound(c.new_namespace("capture"))

            def flow(name, body):
                before = set(record_dir.glob("*.jsonl"))
                body()
                time.sleep(1)  # the shim's Shutdown, and the proxy's last lines
                flows[name] = sorted(set(record_dir.glob("*.jsonl")) - before)

            def run_rm():
                r = cd.run_container(tasks.unique(cd, "run"), ["/bin/echo", "hello"])
                assert r.returncode == 0, tasks.diag(cd, r=r)

            def detached():
                cid = tasks.unique(cd, "detached")
                tasks.start_detached(cd, cid)
                tasks.task_pids(cd, cid)
                r = cd.ctr("task", "exec", "--exec-id", "e1", cid, "/bin/echo", "hi")
                assert r.returncode == 0, tasks.diag(cd, cid, r)
                for cmd in (("task", "pause", cid), ("task", "resume", cid),
                            ("task", "metrics", cid)):
                    r = cd.ctr(*cmd)
                    assert r.returncode == 0, tasks.diag(cd, cid, r)
                tasks.kill_and_remove(cd, cid)

            def exit_code():
                r = cd.run_container(tasks.unique(cd, "exit"), ["/bin/sh", "-c", "exit 3"])
                assert r.returncode == 3, tasks.diag(cd, r=r)

            flow("run-rm", run_rm)
            flow("detached", detached)
            flow("exit-code", exit_code)
            time.sleep(1)
            for leftover in c.leftovers():  # the harness's stop() removes them
                print(f"left behind: {leftover}", file=sys.stderr)

    out_dir.mkdir(parents=True, exist_ok=True)
    written, singles = {}, set()
    for name, sessions in flows.items():
        for k, path in enumerate(sessions):
            steps = read_session(path)
            if any(isinstance(s, bytes) for _, s in steps):
                for seed, data in seeds_of(f"{name}{k if k else ''}", steps, singles).items():
                    digest = hashlib.sha1(data).hexdigest()
                    if digest not in written:
                        written[digest] = seed
                        (out_dir / seed).write_bytes(data)
    for path in record_dir.iterdir():
        path.unlink()
    record_dir.rmdir()
    print(f"{len(written)} seeds in {out_dir}")


def main():
    if Path(sys.argv[0]).name == SHIM_NAME:
        return run_as_shim()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shim", default=os.environ.get("SHIM_BINARY")
                   or str(REPO / "build" / "src" / "shim" / SHIM_NAME))
    p.add_argument("--out", default=str(DEFAULT_OUT))
    a = p.parse_args()
    if not Path(a.shim).is_file():
        sys.exit(f"shim binary not found: {a.shim} (build it, or pass --shim)")
    capture(Path(a.shim).resolve(), Path(a.out))


if __name__ == "__main__":
    main()
