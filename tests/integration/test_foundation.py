"""The harness works, and the shim honours containerd 1.6's basic shim contract
(docs/containerd-contract.md). The runc self-test needs no shim of ours at all."""

import hashlib
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import types
from pathlib import Path

import pytest

import harness
import ttrpc_client as tt
from tasks import wait_for

# The socket name derives from these. The id is unique per run: developers run
# the suite concurrently on one machine, and a shared id would reuse their shim.
ADDR, NS, ID = "/tmp/x/containerd.sock", "ns1", f"abc-{os.getpid()}"
EXPECTED_SOCKET = "unix:///run/containerd/s/" + hashlib.sha256(
    f"{ADDR}/{NS}/{ID}".encode()).hexdigest()


def run_to_eof(cmd, cwd, env, timeout):
    """Run cmd with stdout+stderr on one pipe, as containerd does, and require EOF on
    that pipe within timeout: a daemon that keeps the pipe open hangs containerd."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, deadline = b"", time.monotonic() + timeout
    fd = proc.stdout.fileno()
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            proc.kill()
            proc.wait()
            pytest.fail(f"{cmd[-1]}: no EOF on stdout/stderr within {timeout}s; got {out!r}")
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        out += chunk
    proc.stdout.close()
    return proc.wait(max(0.1, deadline - time.monotonic())), out


def shim_args(shim, *extra):
    return [str(shim), "-namespace", NS, "-address", ADDR,
            "-publish-binary", harness.STACK.containerd,
            "-id", ID, *extra]


@pytest.fixture
def bundle(shim_binary):
    """A bundle dir as containerd prepares it for `start`; afterwards kills whatever
    daemon the test left and removes its socket."""
    d = Path(tempfile.mkdtemp(prefix="shimtest-bundle-"))
    # Not needed by `start` of our shim, but the Go shim reads it (so the test can
    # be checked against containerd-shim-runc-v2 too).
    (d / "config.json").write_text('{"ociVersion": "1.0.2", "annotations": {}}')
    # containerd makes the `log` fifo and keeps reading it from before `start` on
    # (the Go shim's daemon dies without it). We drain it too: bundle.log().
    os.mkfifo(d / "log")
    log_fd = os.open(d / "log", os.O_RDONLY | os.O_NONBLOCK)
    stop = threading.Event()
    drained = []

    def drain():
        while not stop.is_set():
            if select.select([log_fd], [], [], 0.1)[0]:
                chunk = os.read(log_fd, 65536)
                drained.append(chunk)
                if not chunk:  # no writer (yet, or any more): EOF until one opens
                    time.sleep(0.05)

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    yield types.SimpleNamespace(
        path=d, log=lambda: b"".join(drained).decode(errors="replace"))
    stop.set()
    t.join()
    # The daemon's cwd is the bundle: that identifies it even without shim.pid.
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.readlink(f"/proc/{entry}/cwd") == str(d):
                os.kill(int(entry), signal.SIGKILL)
        except OSError:
            pass
    os.close(log_fd)
    Path(EXPECTED_SOCKET[len("unix://"):]).unlink(missing_ok=True)
    shutil.rmtree(d, ignore_errors=True)


def test_version(shim_binary):
    r = subprocess.run([str(shim_binary), "-v"], capture_output=True, timeout=5)
    assert r.returncode == 0, r
    assert "version" in (r.stdout + r.stderr).decode().lower(), r


def test_start_ttrpc_shutdown_delete(shim_binary, bundle):
    b = bundle.path
    log = lambda: "\n--- shim log ---\n" + bundle.log()  # noqa: E731
    env = dict(os.environ, TTRPC_ADDRESS=ADDR + ".ttrpc")
    rc, out = run_to_eof(shim_args(shim_binary, "start"), b, env, timeout=5)
    assert rc == 0, out.decode(errors="replace") + log()
    # containerd dials whatever it reads: any extra byte breaks it.
    assert re.fullmatch(rb"unix:///run/containerd/s/[0-9a-f]{64}\n?", out), out
    address = out.decode().rstrip("\n")
    assert address == EXPECTED_SOCKET
    assert (b / "address").read_text().strip() == address
    assert (b / "shim.pid").exists(), "no shim.pid in the bundle" + log()
    pid = int((b / "shim.pid").read_text())
    assert not harness._is_gone(pid), "shim.pid is not a live process" + log()
    assert os.getsid(pid) != os.getsid(0), "the daemon must run in its own session"

    # A second start finds the live socket and reuses it.
    rc, out2 = run_to_eof(shim_args(shim_binary, "start"), b, env, timeout=5)
    assert (rc, out2.decode().rstrip("\n")) == (0, address)
    assert int((b / "shim.pid").read_text()) == pid

    with tt.Client(address) as c:
        meta = [("containerd-namespace-ttrpc", NS)]
        code, msg, payload = c.call(tt.TASK, "Connect", tt.field_bytes(1, ID), metadata=meta)
        assert code == tt.OK, msg + log()
        code, msg, _ = c.call(tt.TASK, "Nope", metadata=meta)
        assert code == tt.UNIMPLEMENTED, msg
        try:  # the daemon may exit before its answer gets out
            code, msg, _ = c.call(tt.TASK, "Shutdown", tt.field_bytes(1, ID), metadata=meta)
            assert code == tt.OK, msg
        except (EOFError, ConnectionError):
            pass
    assert wait_for(lambda: harness._is_gone(pid), 5), "daemon still running after Shutdown" + log()
    sock = Path(address[len("unix://"):])
    assert wait_for(lambda: not sock.exists(), 5), f"{sock} left after Shutdown"

    r = subprocess.run(shim_args(shim_binary, "-bundle", str(b), "delete"),
                       cwd=b, env=env, capture_output=True, timeout=10)
    assert r.returncode == 0, f"{r}{log()}"
    resp = tt.decode(r.stdout)  # DeleteResponse{pid=1, exit_status=2, exited_at=3}
    assert tt.first(resp, 2) == 128 + 9, resp
    exited_at = tt.decode(tt.first(resp, 3, b""))  # Timestamp{seconds=1, nanos=2}
    assert abs(tt.first(exited_at, 1, 0) - time.time()) < 60, resp
    assert not sock.exists()


def test_runsc_hello_through_containerd(cd):
    r = cd.run_container("hello", ["/bin/echo", "hello"], timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"hello\n", b""), (
        f"stderr: {r.stderr!r}\n--- containerd log ---\n{cd.log_text()[-4000:]}")
    # containerd logs no "shim started" line of its own at debug level; what it
    # logs is the events the shim forwards and the ttrpc connection closing.
    def logged():
        log = cd.log_text()
        return (f'msg="event forwarded" ns={cd.ns} topic=/tasks/start' in log
                and f'msg="shim disconnected" id=hello' in log)
    assert wait_for(logged, 5), cd.log_text()[-4000:]
    assert cd.leftovers() == []


def test_harness_with_go_runc_shim(rootfs):
    """The harness against containerd's own shim: proves it independently of ours."""
    with harness.Containerd(shim=False, rootfs=rootfs) as c:
        r = c.run_container("selftest", ["echo", "hello"], runtime=harness.RUNC_RUNTIME)
        assert (r.returncode, r.stdout) == (0, b"hello\n"), r
        r = c.run_container("selftest2", ["sh", "-c", "exit 7"], runtime=harness.RUNC_RUNTIME)
        assert r.returncode == 7, r
        r = c.run_container("tty", ["sh", "-c", "test -t 0 && echo tty"],
                            runtime=harness.RUNC_RUNTIME, tty=True)
        # Measured with the Go runc shim, under `script` too: "\r\r\n" line ends.
        assert (r.returncode, r.stdout.replace(b"\r", b"")) == (0, b"tty\n"), r
        log = c.log_text()
        assert f'msg="event forwarded" ns={c.namespace} topic=/tasks/start' in log
        assert c.ctr("containers", "list", "-q").stdout == b""
        assert c.leftovers() == []
