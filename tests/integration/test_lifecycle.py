"""The container lifecycle through ctr and containerd 1.6 with our shim.

Exit codes (fast exits too), SIGKILL, stdin/stdout/stderr, a 256 MiB stdout, terminals, the
events containerd gets from the shim and their order, 16 containers at once (execs:
test_exec.py). Every
test ends with nothing left: no shim, sandbox, gofer, container process, cgroup,
mount, socket, bundle or runsc state (assert_clean).

Facts used (docs/runsc.md, docs/containerd-contract.md): `ctr run` without -t never closes stdin;
busybox PID 1 ignores SIGTERM, so kills are SIGKILL; ctr 1.6 has no `task wait`, so a
detached task's exit status is read from `ctr task delete` ("exit with non-zero
exit code N") and from the /tasks/exit event; runsc ids are per-sandbox roots, so
c1 and c10 may coexist.
"""

import json
import os
import signal
import subprocess
import tempfile
import threading
import time

import pytest

import harness
from tasks import (RUNSC_STATE, EventLog, assert_clean, delete_stopped, diag, kill_and_remove,
                   popen_ctr, report, run_detached, start_detached, stop, task_pids, task_status,
                   unique, wait_for)



# -- helpers -----------------------------------------------------------------


def run_args(cd, cid, cmd):
    """`run --rm` arguments as harness.run_container builds them (flag order:
    docs/containerd-contract.md)."""
    cd.track(cd.ns, cid)
    return ["run", "--runtime", harness.RUNSC_RUNTIME, "--runtime-config-path", cd.shim_toml,
            "--rm", *(f"--env={e}" for e in harness.DEFAULT_ENV), "--rootfs", cd.rootfs, cid, *cmd]


@pytest.fixture(autouse=True)
def _tidy(cd):
    """After each test, best effort: a failed test must not leave tasks and containers
    that make the next tests' leak checks fail too (the test itself asserts)."""
    yield
    tasks = cd.ctr("task", "ls", "-q", timeout=30).stdout.decode().split()
    for tid in tasks:
        cd.ctr("task", "kill", "-s", "SIGKILL", tid, timeout=30)
    for tid in tasks:
        cd.ctr("task", "delete", "-f", tid, timeout=30)
    for cid in cd.ctr("container", "ls", "-q", timeout=30).stdout.decode().split():
        cd.ctr("container", "delete", cid, timeout=30)


# -- exit codes ----------------------------------------------------------------


def test_echo_hello(cd):
    r = cd.run_container("hello", ["echo", "hello"])
    assert (r.returncode, r.stdout, r.stderr) == (0, b"hello\n", b""), diag(cd, "hello", r)
    assert_clean(cd, timeout=5)


def test_exit_code(cd):
    r = cd.run_container("seven", ["sh", "-c", "exit 7"])
    assert (r.returncode, r.stdout, r.stderr) == (7, b"", b""), diag(cd, "seven", r)
    assert_clean(cd, timeout=5)


def test_fast_exits_keep_their_code(cd, capsys):
    """/bin/true and /bin/false exit within milliseconds of start: the code must
    never be lost (the Go shim reports 128 for them)."""
    times = []
    for i in range(5):
        for cmd, code in (("/bin/true", 0), ("/bin/false", 1)):
            cid = f"{cmd.rsplit('/', 1)[1]}{i}"
            t0 = time.monotonic()
            r = cd.run_container(cid, [cmd])
            if code == 0:
                times.append(time.monotonic() - t0)
            assert (r.returncode, r.stdout, r.stderr) == (code, b"", b""), diag(cd, cid, r)
    times.sort()
    report(capsys, f"ctr run --rm /bin/true wall time: median {times[len(times) // 2]:.2f}s, "
                   f"min {times[0]:.2f}s, max {times[-1]:.2f}s")
    assert_clean(cd, timeout=5)


def test_exited_sandbox_is_released_before_delete(cd):
    """A sandbox whose container exited is removed (runsc state, cgroup) without waiting
    for Delete: containerd's Delete then finds it done. The task stays STOPPED with its
    code until then; ps lists no process and metrics skip it quietly (NotFound)."""
    cid = unique(cd, "released")
    r = run_detached(cd, cid, ("sh", "-c", "exit 5"))
    assert r.returncode == 0, diag(cd, cid, r)
    assert wait_for(lambda: task_status(cd, cid) == "STOPPED", 15, 0.05), diag(cd, cid)
    runsc_root = RUNSC_STATE / cd.ns / cid
    assert wait_for(lambda: not runsc_root.is_dir() or not any(runsc_root.iterdir()), 5), \
        f"runsc state still there: {sorted(runsc_root.iterdir())}\n" + diag(cd, cid)
    assert wait_for(lambda: harness.cgroup_dirs(f"{cd.ns}/{cid}") == [], 5), \
        f"cgroups still there: {harness.cgroup_dirs(f'{cd.ns}/{cid}')}\n" + diag(cd, cid)
    assert task_status(cd, cid) == "STOPPED"
    assert task_pids(cd, cid) == []
    since = len(cd.log_text())
    r = cd.ctr("task", "metrics", cid, timeout=30)
    assert (r.returncode, b"no metrics received" in r.stderr) == (1, True), diag(cd, cid, r)
    assert "collecting metrics for" not in cd.log_text()[since:], diag(cd, cid, since=since)
    delete_stopped(cd, cid, expect_status=5)
    assert_clean(cd, timeout=5)


# -- signals ---------------------------------------------------------------------


def test_sigkill_detached(cd):
    cid = "killme"
    start_detached(cd, cid, ["sleep", "1000"])
    kill_and_remove(cd, cid, expect_status=137)
    assert_clean(cd, timeout=5)


def test_sigkill_attached_ctr_returns_137(cd):
    """`ctr run` (attached) of a task SIGKILLed from elsewhere: its Wait returns 137."""
    cid = "killwait"
    proc = popen_ctr(cd, *run_args(cd, cid, ["sleep", "1000"]))
    try:
        assert wait_for(lambda: task_status(cd, cid) == "RUNNING", 30, 0.1), diag(cd, cid)
        r = cd.ctr("task", "kill", "-s", "SIGKILL", cid, timeout=30)
        assert r.returncode == 0, diag(cd, cid, r)
        out, err = proc.communicate(timeout=30)
    finally:
        stop(proc)
    assert (proc.returncode, out, err) == (137, b"", b""), diag(cd, cid)
    assert_clean(cd, timeout=5)


# -- stdio -----------------------------------------------------------------------


def test_stdin(cd):
    r = cd.run_container("stdin", ["sh", "-c", 'read a; read b; echo "$b$a"'], stdin=b"x\ny\n")
    assert (r.returncode, r.stdout, r.stderr) == (0, b"yx\n", b""), diag(cd, "stdin", r)
    assert_clean(cd, timeout=5)


def test_stderr(cd):
    r = cd.run_container("stderr", ["sh", "-c", "echo err 1>&2"])
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b"err\n"), diag(cd, "stderr", r)
    assert_clean(cd, timeout=5)


def test_stdout_256mib(cd, capsys, record_property):
    size = 256 << 20
    cid = "big"
    # dd with 1 MiB writes: busybox `head -c` writes 4 KiB at a time, and under gVisor's
    # ptrace platform that alone is ~10 MB/s (measured with plain `runsc run | wc -c`,
    # no shim: 23-30 s for 256 MiB; dd bs=1M: ~2 s with sandbox start).
    dd = f"dd if=/dev/zero bs=1048576 count={size >> 20} 2>/dev/null"
    count, not_zero, first_byte_at = 0, 0, None
    with tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = popen_ctr(cd, *run_args(cd, cid, ["sh", "-c", dd]), timeout=120, stderr=err)
        try:
            fd = proc.stdout.fileno()
            while chunk := os.read(fd, 1 << 20):
                if first_byte_at is None:
                    first_byte_at = time.monotonic()
                count += len(chunk)
                not_zero += len(chunk) - chunk.count(0)
            rc = proc.wait(timeout=130)
        finally:
            stop(proc)
            proc.stdout.close()
        t1 = time.monotonic()
        err.seek(0)
        stderr = err.read()
    assert (rc, count, not_zero, stderr) == (0, size, 0, b""), diag(cd, cid)
    streaming = t1 - (first_byte_at or t0)
    mbps = size / streaming / 1e6
    record_property("stdout_MBps", round(mbps))
    report(capsys, f"256 MiB stdout: {mbps:.0f} MB/s from first byte to ctr's exit "
                   f"({streaming:.2f}s; {t1 - t0:.2f}s with container start and teardown)")
    assert_clean(cd, timeout=5)


# -- exec ------------------------------------------------------------------------


# -- terminals -------------------------------------------------------------------


def test_terminal_run(cd):
    r = cd.run_container("tty", ["sh", "-c", "test -t 0 && echo tty"], tty=True)
    # The container's pty turns \n into \r\n (the Go runc shim gives "\r\r\n" here).
    assert (r.returncode, r.stdout.replace(b"\r", b"")) == (0, b"tty\n"), diag(cd, "tty", r)
    assert_clean(cd, timeout=5)


# -- events ----------------------------------------------------------------------

# `ctr events` line: "2026-11-22 20:52:04.611169459 +0000 UTC <ns> <topic> <json>"
def test_events(cd, containerd):
    log = EventLog(cd)
    try:
        log.subscribed()

        cid = "ev"
        start_detached(cd, cid, ["sleep", "1000"])
        r = cd.ctr("task", "exec", "--exec-id", "e1", cid, "echo", "hi")
        assert (r.returncode, r.stdout) == (0, b"hi\n"), diag(cd, cid, r)
        # e2 still runs when the sandbox dies: its exit must still come before the init's.
        r = cd.ctr("task", "exec", "-d", "--exec-id", "e2", cid, "sleep", "1000")
        assert r.returncode == 0, diag(cd, cid, r)
        kill_and_remove(cd, cid, expect_status=137)

        def mine():
            return [(t, p) for t, p in log.events(cd.ns) if p.get("container_id", p.get("id")) == cid]
        assert wait_for(lambda: any(t == "/tasks/delete" for t, _ in mine()), 10), log.lines
        events = mine()
    finally:
        log.close()

    listing = "\n".join(f"{t} {json.dumps(p)}" for t, p in events)
    topics = [t for t, _ in events]
    for topic in ("/tasks/create", "/tasks/start", "/tasks/exec-added", "/tasks/exec-started",
                  "/tasks/exit", "/tasks/delete"):
        assert topic in topics, f"no {topic} for {cid}:\n{listing}"

    def index(topic, **fields):
        found = [i for i, (t, p) in enumerate(events)
                 if t == topic and all(p.get(k, 0) == v for k, v in fields.items())]
        assert len(found) == 1, f"{topic} {fields}: {len(found)} events\n{listing}"
        return found[0]

    create, start = index("/tasks/create"), index("/tasks/start")
    init_exit = index("/tasks/exit", id=cid)
    delete = index("/tasks/delete", id=cid)
    assert create < start < init_exit < delete, listing
    assert events[init_exit][1].get("exit_status") == 137, listing
    for exec_id in ("e1", "e2"):
        added = index("/tasks/exec-added", exec_id=exec_id)
        started = index("/tasks/exec-started", exec_id=exec_id)
        exited = index("/tasks/exit", id=exec_id)
        assert start < added < started < exited < init_exit, f"{exec_id}:\n{listing}"
    assert events[index("/tasks/exit", id="e1")][1].get("exit_status", 0) == 0, listing
    assert_clean(cd, timeout=5)


# -- many at once ----------------------------------------------------------------


def test_sixteen_in_parallel(cd, capsys):
    """c1..c16 at once: c1 and c10 coexisting is the point (runsc resolves ids by prefix)."""
    results, errors = {}, {}

    def one(n):
        try:
            results[n] = cd.run_container(f"c{n}", ["sh", "-c", "echo $0; exit $1", f"c{n}",
                                                    str(n % 7)], timeout=180)
        except Exception as e:  # noqa: BLE001 - reported below
            errors[n] = e

    t0 = time.monotonic()
    threads = [threading.Thread(target=one, args=(n,)) for n in range(1, 17)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report(capsys, f"16 containers in parallel: {time.monotonic() - t0:.1f}s")
    assert errors == {}
    wrong = {n: (r.returncode, r.stdout, r.stderr) for n, r in results.items()
             if (r.returncode, r.stdout, r.stderr) != (n % 7, f"c{n}\n".encode(), b"")}
    assert wrong == {}, f"{wrong}\n{diag(cd)}"
    assert_clean(cd, timeout=15)
