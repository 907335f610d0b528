"""Execs (issues 3 and 13), on both paths the shim has: through the sandbox's control socket
(the default: no host process per exec) and through `runsc exec` (`direct_exec = false` in
the shim TOML, and the fallback for a sandbox whose control socket does not serve). Each test
runs on both: output, exit codes, stdin and CloseIO, a missing binary, a duplicate id, ps,
kill, terminals and resize, the exec's pid, execs of a sandbox that dies, and how many host
processes an exec costs. And the fallback: a sandbox that does not serve the shim's request
gets `runsc exec` from then on.
"""

import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

import harness
from tasks import (assert_clean, diag, kill_and_remove, popen_ctr, report, running,
                   start_detached, stop, task_pids, task_status, unique, wait_for)
from test_client_semantics import FifoReader, exec_request, ids
from test_resilience import children, cmdline, sandbox_pid_of, shim_pid_of
from ttrpc_client import OK, TASK, Client, decode, field_varint, first

PATHS = ("sandbox", "runsc")


@pytest.fixture(params=PATHS)
def path(request, cd, tmp_path):
    """(name, shim TOML) of the exec path under test."""
    toml = tmp_path / f"{request.param}.toml"
    harness.write_shim_toml(toml, top="" if request.param == "sandbox" else "direct_exec = false")
    return request.param, toml


def start(cd, name, path, cmd=("sleep", "1000")):
    cid = unique(cd, f"{name}-{path[0]}")
    start_detached(cd, cid, cmd, runtime_config=path[1])
    return cid


def exec_helpers(cd, cid):
    """Host processes the shim runs for execs: every child but the sandbox and its gofer."""
    return [cmdline(p) for p in children(shim_pid_of(cd, cid))
            if cmdline(p).split(" ")[0] not in ("runsc-sandbox", "runsc-gofer")]


def test_exec(cd, path, capsys):
    cid = start(cd, "execs", path)
    t0 = time.monotonic()
    r = cd.ctr("task", "exec", "--exec-id", "e1", cid, "echo", "hi")
    latency = time.monotonic() - t0
    assert (r.returncode, r.stdout, r.stderr) == (0, b"hi\n", b""), diag(cd, cid, r)
    report(capsys, f"[{path[0]}] ctr task exec echo hi: {latency * 1000:.0f} ms")

    r = cd.ctr("task", "exec", "--exec-id", "e2", cid, "sh", "-c", "echo err >&2; exit 3")
    assert (r.returncode, r.stdout, r.stderr) == (3, b"", b"err\n"), diag(cd, cid, r)

    # ctr task exec calls CloseIO at stdin's EOF: cat ends.
    r = cd.ctr("task", "exec", "--exec-id", "e3", cid, "cat", input=b"x\n")
    assert (r.returncode, r.stdout, r.stderr) == (0, b"x\n", b""), diag(cd, cid, r)

    # The user, groups and cwd of the process spec.
    r = cd.ctr("task", "exec", "--exec-id", "e4", "--user", "1000:1000", "--cwd", "/tmp", cid,
               "sh", "-c", "id -u; id -g; pwd")
    assert (r.returncode, r.stdout) == (0, b"1000\n1000\n/tmp\n"), diag(cd, cid, r)

    r = cd.ctr("task", "exec", "--exec-id", "e5", cid, "/nonexistent")
    assert r.returncode != 0, diag(cd, cid, r)
    assert b"/nonexistent" in r.stderr and b"no such file" in r.stderr.lower(), diag(cd, cid, r)

    # A duplicate exec id while the first one still runs.
    pids_before = task_pids(cd, cid)
    assert 1 in pids_before, pids_before  # sleep is PID 1 inside gVisor
    bg = popen_ctr(cd, "task", "exec", "--exec-id", "d1", cid, "sleep", "1000")
    try:
        assert wait_for(lambda: bg.poll() is not None or len(task_pids(cd, cid)) > len(pids_before),
                        15, 0.1), diag(cd, cid)
        assert bg.poll() is None, (bg.communicate(), diag(cd, cid))
        r = cd.ctr("task", "exec", "--exec-id", "d1", cid, "echo", "dup")
        assert r.returncode != 0 and r.stdout == b"", diag(cd, cid, r)
        assert b"already exists" in r.stderr, diag(cd, cid, r)

        pids = task_pids(cd, cid)
        assert 1 in pids and len(pids) >= 2, pids
        r = cd.ctr("task", "kill", "--exec-id", "d1", "-s", "SIGKILL", cid, timeout=30)
        assert r.returncode == 0, diag(cd, cid, r)
        out, err = bg.communicate(timeout=30)
    finally:
        stop(bg)
    assert (bg.returncode, out, err) == (137, b"", b""), diag(cd, cid)
    assert wait_for(lambda: task_pids(cd, cid) == pids_before, 5, 0.1), task_pids(cd, cid)

    kill_and_remove(cd, cid, expect_status=137)
    assert_clean(cd, timeout=5)


def test_exec_repeated(cd, path, capsys):
    """20 quick execs in a row: every one must start and keep its output."""
    cid = start(cd, "execloop", path)
    failures, times = [], []
    for i in range(20):
        t0 = time.monotonic()
        r = cd.ctr("task", "exec", "--exec-id", f"r{i}", cid, "echo", f"n{i}")
        times.append(time.monotonic() - t0)
        if (r.returncode, r.stdout, r.stderr) != (0, f"n{i}\n".encode(), b""):
            failures.append(f"r{i}: rc={r.returncode} out={r.stdout!r} err={r.stderr!r}")
    times.sort()
    report(capsys, f"[{path[0]}] ctr task exec echo latency over 20: median "
                   f"{times[10] * 1000:.0f} ms, min {times[0] * 1000:.0f} ms, max "
                   f"{times[-1] * 1000:.0f} ms; {len(failures)} failed")
    assert failures == [], f"{len(failures)}/20 execs failed:\n" + "\n".join(failures)
    kill_and_remove(cd, cid, expect_status=137)
    assert_clean(cd, timeout=5)


def test_terminal_exec(cd, path):
    cid = start(cd, "ttyexec", path)
    r = cd.ctr("task", "exec", "-t", "--exec-id", "t1", cid, "sh", "-c", "test -t 0 && echo tty",
               tty=True)
    assert (r.returncode, r.stdout.replace(b"\r", b"")) == (0, b"tty\n"), diag(cd, cid, r)
    # Without -t the same exec has no terminal.
    r = cd.ctr("task", "exec", "--exec-id", "t2", cid, "sh", "-c", "test -t 0 || echo notty")
    assert (r.returncode, r.stdout) == (0, b"notty\n"), diag(cd, cid, r)
    kill_and_remove(cd, cid, expect_status=137)
    assert_clean(cd, timeout=5)


def test_terminal_resize_and_pid(cd, path, tmp_path):
    """ResizePty reaches the process (its size, and a SIGWINCH it can trap); Start's pid is the
    one Pids lists."""
    out = FifoReader(tmp_path / "out")
    script = 'trap "stty size; exit 5" WINCH; echo ready; while :; do sleep 0.1; done'
    with running(cd, f"resize-{path[0]}", runtime_config=path[1]) as cid, \
            Client(str(cd.socket_path(cid)), timeout=30) as shim:
        code, msg, _ = shim.call(TASK, "Exec", exec_request(
            cid, "w", ["sh", "-c", script], stdout=tmp_path / "out", terminal=True))
        assert code == OK, msg
        code, msg, payload = shim.call(TASK, "Start", ids(cid, "w"))
        assert code == OK, msg
        out.started()
        pid = first(decode(payload), 1, 0)
        code, msg, payload = shim.call(TASK, "Pids", ids(cid))
        assert code == OK, msg
        listed = [first(decode(p), 1, 0) for p in decode(payload).get(1, [])]
        assert pid in listed, (pid, listed)
        assert wait_for(lambda: b"ready" in out.data, 10), bytes(out.data)
        code, msg, _ = shim.call(TASK, "ResizePty",
                                 ids(cid, "w") + field_varint(3, 120) + field_varint(4, 40))
        assert code == OK, msg
        code, msg, payload = shim.call(TASK, "Wait", ids(cid, "w"))
        assert code == OK and first(decode(payload), 1, 0) == 5, (code, msg, bytes(out.data))
        out.close()
        shim.call(TASK, "Delete", ids(cid, "w"))
        assert b"40 120" in out.data, bytes(out.data)
    assert_clean(cd, timeout=5)


def test_host_processes_per_exec(cd, path, capsys):
    """20 `sleep` execs at once: through the sandbox, no host process beside the sandbox and
    gofer; through runsc, a `runsc exec` each (the reference the first is measured against)."""
    cid = start(cd, "helpers", path)
    execs = [popen_ctr(cd, "task", "exec", "--exec-id", f"s{i}", cid, "sleep", "60")
             for i in range(20)]
    try:
        assert wait_for(lambda: len(task_pids(cd, cid)) >= 21, 30, 0.2), task_pids(cd, cid)
        helpers = exec_helpers(cd, cid)
        report(capsys, f"[{path[0]}] host processes for 20 running execs: {len(helpers)}")
        if path[0] == "sandbox":
            assert helpers == [], helpers
        else:
            assert len(helpers) == 20 and all(" exec " in h for h in helpers), helpers
    finally:
        for e in execs:
            stop(e)
        kill_and_remove(cd, cid, expect_status=137)
    assert_clean(cd, timeout=5)


def test_execs_die_with_their_sandbox(cd, path):
    cid = start(cd, "dies", path)
    bg = popen_ctr(cd, "task", "exec", "--exec-id", "x", cid, "sleep", "1000")
    try:
        assert wait_for(lambda: len(task_pids(cd, cid)) >= 2, 15, 0.1), diag(cd, cid)
        os.kill(sandbox_pid_of(cd, cid), signal.SIGKILL)
        out, err = bg.communicate(timeout=30)
        assert bg.returncode == 137, (bg.returncode, out, err)
        assert wait_for(lambda: task_status(cd, cid) == "STOPPED", 15, 0.1), diag(cd, cid)
    finally:
        stop(bg)
    r = cd.ctr("task", "delete", cid)
    assert r.returncode == 0, diag(cd, cid, r)
    assert cd.ctr("container", "delete", cid).returncode == 0
    assert_clean(cd, timeout=5)


class ControlProxy:
    """Stands in for a sandbox's control socket file (runsc >= 20230130 records its path in
    the sandbox's state file): the first ExecuteAsync is answered as a runsc whose API differs
    would answer it, "unknown method"; everything else, fds too, goes to the real socket."""

    def __init__(self, real_path, path):
        self.real, self.path = real_path, path
        self.refused = 0
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 16)
        if b"containerManager.ExecuteAsync" in data and self.refused == 0:
            self.refused += 1
            conn.sendall(b'{"success":false,"err":"unknown method","result":null}')
            for fd in fds:
                os.close(fd)
            conn.close()
            return
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # Longer than sun_path holds, as runsc binds it: through its directory's fd.
        folder = os.open(os.path.dirname(self.real), os.O_PATH | os.O_DIRECTORY)
        try:
            upstream.connect(f"/proc/self/fd/{folder}/{os.path.basename(self.real)}")
        finally:
            os.close(folder)
        socket.send_fds(upstream, [data], fds)
        for fd in fds:
            os.close(fd)

        def pump(src, dst):
            try:
                while chunk := src.recv(1 << 16):
                    dst.sendall(chunk)
            except OSError:
                pass
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        threading.Thread(target=pump, args=(upstream, conn), daemon=True).start()
        pump(conn, upstream)

    def close(self):
        self.listener.close()
        os.unlink(self.path)


@pytest.mark.skipif(harness.STACK.runsc_release < 20230130,
                    reason="this runsc's control socket is an abstract name: nothing can stand "
                           "in for it (the trixie and sid stacks run this test)")
def test_falls_back_to_runsc_exec_when_the_sandbox_does_not_serve(cd, tmp_path):
    cid = unique(cd, "fallback")
    start_detached(cd, cid)
    root = Path("/run/containerd/runsc") / cd.ns / cid
    state_file = root / f"{cid}_sandbox:{cid}.state"
    original = state_file.read_text()
    state = json.loads(original)
    real = state["sandbox"]["controlSocketPath"]
    proxy = ControlProxy(real, str(tmp_path / "proxy.sock"))
    state["sandbox"]["controlSocketPath"] = proxy.path
    state_file.write_text(json.dumps(state))
    since = len(cd.log_text())
    try:
        for i in range(2):
            r = cd.ctr("task", "exec", "--exec-id", f"f{i}", cid, "echo", f"n{i}")
            assert (r.returncode, r.stdout, r.stderr) == (0, f"n{i}\n".encode(), b""), \
                diag(cd, cid, r)
        assert proxy.refused == 1
        warnings = [line for line in cd.log_text()[since:].splitlines()
                    if "using runsc exec for this sandbox" in line]
        assert len(warnings) == 1, warnings
    finally:
        state_file.write_text(original)
        proxy.close()
        kill_and_remove(cd, cid, expect_status=137)
    assert_clean(cd, timeout=5)
