"""The shim under hostile conditions, through a private containerd (issue 5).

- containerd restarts under a live container: the task is still RUNNING afterwards and exec,
  kill and delete work; an exit that happens while containerd is down reaches it once it is
  back (the shim's event publisher queues it and watches containerd's socket): within 100 ms
  of the socket's reappearance over 10 restarts, and a shim waiting out a long outage makes
  almost no wake-ups;
- the shim is SIGKILLed: containerd runs our `delete` and nothing is left (no sandbox, gofer,
  mount, socket, runsc state);
- the sandbox is SIGKILLed: /tasks/exit with 137 reaches containerd and the shim stays healthy;
- runsc misbehaves (fake runsc scripts in tests/fake_runsc/*_delegating.sh that run the real
  runsc except for one subcommand): ctr fails in bounded time with runsc's log.json message,
  other calls keep working while one hangs, and nothing leaks.

Every container id ends in the instance token: runsc names sandboxes host-wide, and other
runs of the suite share this machine.
"""

import ctypes
import os
import re
import select
import signal
import socket
import statistics
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

import harness
import ttrpc_client as tt
from tasks import (RUNSC_STATE, TASKS_DIR, EventLog, assert_clean, delete_stopped, diag,
                   kill_and_remove, report, run_detached, start_detached, task_row,
                   task_status, unique, wait_for)

FAKE_RUNSC = Path(__file__).resolve().parents[1] / "fake_runsc"


# -- helpers (test_hostile_input.py and test_soak.py use them too) ---------------------------


def bundle_of(cd, cid):
    return cd.state / TASKS_DIR / cd.ns / cid


def shim_pid_of(cd, cid):
    return int((bundle_of(cd, cid) / "shim.pid").read_text())


def children(pid):
    out = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(p) for p in (task / "children").read_text().split()]
    except OSError:
        pass
    return out


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def sandbox_pid_of(cd, cid):
    """The runsc-sandbox process: the shim's child, and the task's pid."""
    shim = shim_pid_of(cd, cid)
    sandboxes = [p for p in children(shim) if cmdline(p).startswith("runsc-sandbox ")]
    assert len(sandboxes) == 1, [(p, cmdline(p)[:80]) for p in children(shim)]
    return sandboxes[0]


def pid_gone(pid):
    return harness._is_gone(pid)


def our_shims(cd):
    """Pids of live shim daemons of this containerd instance."""
    return [pid for pid, comm, cmd in cd.our_processes()
            if cmd.startswith(str(cd.shim)) or harness.SHIM_NAME in cmd.split(" ")[0]]


# `ctr events` line: "2026-11-22 20:52:04.611169459 +0000 UTC <ns> <topic> <json>"
# -- containerd restarts -------------------------------------------------------------------


def stop_containerd(containerd, sig=signal.SIGTERM, timeout=10):
    """Stop containerd with `sig` and wait for it (its shims live on: they have their own
    session)."""
    t0 = time.monotonic()
    containerd.proc.send_signal(sig)
    containerd.proc.wait(timeout)
    containerd._log.close()
    return time.monotonic() - t0


def start_containerd_again(containerd):
    """containerd once more with the same config, root, state, cwd and PATH as
    harness.Containerd.start() gave it; its log appends to the same file."""
    t0 = time.monotonic()
    containerd.spawn_containerd()
    containerd._wait_ready()
    return time.monotonic() - t0


def task_rows(cd):
    """[(id, pid, STATUS)] of `ctr task ls`."""
    r = cd.ctr("task", "ls", timeout=30)
    rows = []
    for line in r.stdout.decode().splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 3:
            rows.append((fields[0], int(fields[1]), fields[2]))
    return rows


def tidy(cd, containerd):
    """Best effort: remove every task and container of cd's namespace. A CREATED task that
    the shim cannot kill (see test_runsc_start_exits_early) gets its sandbox SIGKILLed
    directly, if that pid is a runsc-sandbox of ours."""
    if containerd.proc is None or containerd.proc.poll() is not None:
        start_containerd_again(containerd)
    rows = task_rows(cd)
    for tid, pid, status in rows:
        r = cd.ctr("task", "kill", "-s", "SIGKILL", tid, timeout=30)
        if r.returncode != 0 and status == "CREATED" and pid > 0:
            ours = {p for p, _, c in cd.our_processes() if c.startswith("runsc-sandbox ")}
            if pid in ours:
                os.kill(pid, signal.SIGKILL)
    wait_for(lambda: all(st != "RUNNING" and st != "CREATED" for _, _, st in task_rows(cd)), 10)
    for tid, _, _ in rows:
        cd.ctr("task", "delete", "-f", tid, timeout=30)
    for cid in cd.ctr("container", "ls", "-q", timeout=30).stdout.decode().split():
        cd.ctr("container", "delete", cid, timeout=30)


@pytest.fixture(autouse=True)
def _tidy(cd, containerd):
    """After each test: a failed test must not leave tasks and containers that make the next
    tests' leak checks fail too (the test itself asserts). containerd is brought back if a
    test left it down."""
    yield
    tidy(cd, containerd)


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGKILL"])
def test_containerd_restart(cd, containerd, capsys, sig):
    """containerd restarts (stopped, or crashed) under a live container: RUNNING, exec, kill,
    delete all work."""
    cid = unique(cd, "live")
    start_detached(cd, cid)
    pid, _ = task_row(cd, cid)
    shim = shim_pid_of(cd, cid)
    assert pid == sandbox_pid_of(cd, cid)

    down = stop_containerd(containerd, getattr(signal, sig))
    assert not pid_gone(shim) and not pid_gone(pid), "shim or sandbox died with containerd"
    since = len(cd.log_text())
    up = start_containerd_again(containerd)

    # containerd reloads the task from the bundle and reconnects to the same shim.
    assert task_row(cd, cid) == (pid, "RUNNING"), diag(cd, cid, since=since)
    assert shim_pid_of(cd, cid) == shim and not pid_gone(shim)
    t0 = time.monotonic()
    r = cd.ctr("task", "exec", "--exec-id", "after", cid, "echo", "after restart", timeout=30)
    exec_s = time.monotonic() - t0
    assert (r.returncode, r.stdout, r.stderr) == (0, b"after restart\n", b""), (
        diag(cd, cid, r, since))
    r = cd.ctr("task", "exec", "--exec-id", "code", cid, "sh", "-c", "exit 3", timeout=30)
    assert r.returncode == 3, diag(cd, cid, r, since)
    kill_and_remove(cd, cid, expect_status=137)
    assert_clean(cd)
    report(capsys, f"containerd {sig} {down:.2f}s, start again {up:.2f}s, first exec after "
                   f"restart {exec_s:.2f}s")


def exit_while_down(cd, containerd, cid, runtime):
    """Start cid with `runtime`, stop containerd, SIGKILL the task's process, start containerd
    again. Returns (the killed pid, the log offset of the restart, seconds to restart)."""
    if runtime == harness.RUNSC_RUNTIME:
        start_detached(cd, cid)
    else:
        cd.track(cd.ns, cid)
        r = cd.ctr("run", "-d", "--runtime", runtime, *(f"--env={e}" for e in harness.DEFAULT_ENV),
                   "--rootfs", str(cd.rootfs), cid, "sleep", "1000", timeout=60)
        assert r.returncode == 0, diag(cd, cid, r)
    pid, _ = task_row(cd, cid)
    if runtime == harness.RUNSC_RUNTIME:
        assert pid == sandbox_pid_of(cd, cid)
    stop_containerd(containerd)
    os.kill(pid, signal.SIGKILL)
    # The shim reaps it (a zombie would still have /proc/<pid>); its publisher then fails to
    # reach containerd and queues the exit.
    assert wait_for(lambda: not Path(f"/proc/{pid}").exists(), 10), "process not reaped"
    time.sleep(1.0)
    since = len(cd.log_text())
    t0 = time.monotonic()
    start_containerd_again(containerd)
    return pid, since, t0


def test_exit_while_containerd_down(cd, containerd, capsys):
    """An exit that happens while containerd is down reaches it once it is back. What
    containerd then shows is what it shows for the Go runc shim on the same stack: 1.6 keeps
    the task STOPPED until it is deleted; 1.7 and 2.x remove it at restart ("cleaning leaked
    shim process"), whichever shim it was."""
    ref = unique(cd, "downexit-runc")
    ref_pid, _, _ = exit_while_down(cd, containerd, ref, harness.RUNC_RUNTIME)
    forwarded = f'msg="event forwarded" ns={cd.ns} topic=/tasks/exit'
    assert wait_for(lambda: task_row(cd, ref) in (None, (ref_pid, "STOPPED")), 15, 0.1)
    kept = task_row(cd, ref) is not None
    if kept:
        delete_stopped(cd, ref, expect_status=137)
    else:
        cd.ctr("container", "delete", ref, timeout=30)

    cid = unique(cd, "downexit")
    pid, since, t0 = exit_while_down(cd, containerd, cid, harness.RUNSC_RUNTIME)
    # The queued /tasks/exit reaches the new containerd as soon as its socket is back.
    assert wait_for(lambda: forwarded in cd.log_text()[since:], 15, 0.1), (
        diag(cd, cid, since=since))
    delivered = time.monotonic() - t0
    if kept:
        # The shim's own log reaches the new containerd through the same fifo (1.7 and 2.x
        # close that fifo when they remove the task).
        assert wait_for(lambda: "event publisher: containerd reachable again"
                        in cd.log_text()[since:], 5), diag(cd, cid, since=since)
        assert task_row(cd, cid) == (pid, "STOPPED"), diag(cd, cid, since=since)
        delete_stopped(cd, cid, expect_status=137)
    else:
        assert wait_for(lambda: task_row(cd, cid) is None, 15, 0.1), diag(cd, cid, since=since)
        assert cd.ctr("container", "delete", cid, timeout=30).returncode == 0
    assert_clean(cd)
    report(capsys, f"exit queued while containerd was down forwarded {delivered:.2f}s after "
                   f"it was started again; task {'kept STOPPED' if kept else 'removed'} at "
                   "restart, as for the runc shim")


class SocketAppearance:
    """When a unix socket appears at `path` (inotify IN_CREATE, wall clock) and when it first
    accepts a connection (dialed every millisecond from then on). Start it before whatever
    creates the socket."""

    IN_CREATE, IN_MOVED_TO = 0x100, 0x80

    def __init__(self, path):
        self.path = str(path)
        self.created = self.accepting = None
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self.fd >= 0, os.strerror(ctypes.get_errno())
        wd = libc.inotify_add_watch(self.fd, os.path.dirname(self.path).encode(),
                                    self.IN_CREATE | self.IN_MOVED_TO)
        assert wd >= 0, os.strerror(ctypes.get_errno())
        self.name = os.path.basename(self.path).encode()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self, timeout=30):
        deadline = time.monotonic() + timeout
        while self.created is None and time.monotonic() < deadline:
            if not select.select([self.fd], [], [], 0.5)[0]:
                continue
            data = os.read(self.fd, 65536)
            at = time.time()
            offset = 0
            while offset + 16 <= len(data):
                length = int.from_bytes(data[offset + 12:offset + 16], "little")
                name = data[offset + 16:offset + 16 + length].rstrip(b"\0")
                offset += 16 + length
                if name == self.name and self.created is None:
                    self.created = at
        os.close(self.fd)
        while self.created is not None and self.accepting is None and time.monotonic() < deadline:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                try:
                    s.connect(self.path)
                    self.accepting = time.time()
                except OSError:
                    time.sleep(0.001)

    def wait(self, timeout=30):
        self.thread.join(timeout)
        return self.created is not None and self.accepting is not None


# containerd's log line for each event a shim forwards, with its wall clock time.
FORWARDED = re.compile(r'time="(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)" '
                       r'level=\w+ msg="event forwarded" ns=(\S+) topic=(\S+)')


def forwarded_events(log_text, ns, topic):
    """Wall clock times (s since the epoch) of containerd's "event forwarded" lines."""
    out = []
    for m in FORWARDED.finditer(log_text):
        if (m.group(4), m.group(5)) != (ns, topic):
            continue
        zone = "+00:00" if m.group(3) == "Z" else m.group(3)
        at = datetime.fromisoformat(m.group(1) + zone).timestamp()
        out.append(at + int((m.group(2) or "0")[:9].ljust(9, "0")) / 1e9)
    return out


def timed_exit_while_down(cd, containerd, cid, outage=0.5, during_outage=None):
    """Start `cid`, stop containerd, kill the sandbox (the shim queues /tasks/exit), wait
    `outage` s (calling during_outage(shim pid) if given), start containerd again. Returns
    (ms from the ttrpc socket's appearance to the exit's forwarding, ms from its first
    accepted dial to the forwarding, containerd log since the restart)."""
    start_detached(cd, cid)
    pid, _ = task_row(cd, cid)
    shim = shim_pid_of(cd, cid)
    stop_containerd(containerd)
    os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: not Path(f"/proc/{pid}").exists(), 10), "sandbox not reaped"
    if during_outage:
        during_outage(shim)
    else:
        time.sleep(outage)
    since = len(cd.log_text())
    appearance = SocketAppearance(containerd.ttrpc_address)
    start_containerd_again(containerd)
    assert appearance.wait(), "containerd's ttrpc socket did not appear"

    def exits():
        return forwarded_events(cd.log_text()[since:], cd.ns, "/tasks/exit")
    assert wait_for(exits, 10, 0.02), diag(cd, cid, since=since)
    # containerd 1.6 keeps the task STOPPED; 1.7 and 2.x remove it at restart, as they do a
    # runc shim's (test_exit_while_containerd_down compares the two).
    assert wait_for(lambda: task_row(cd, cid) in ((pid, "STOPPED"), None), 5), (
        diag(cd, cid, since=since))
    log = cd.log_text()[since:]
    assert len(exits()) == 1, f"/tasks/exit forwarded {len(exits())} times\n" + log
    if task_row(cd, cid) is not None:
        delete_stopped(cd, cid, expect_status=137)
    else:
        assert cd.ctr("container", "delete", cid, timeout=30).returncode == 0
    at = exits()[0]
    return (at - appearance.created) * 1000, (at - appearance.accepting) * 1000, log


def test_exit_after_restart_within_100ms(cd, containerd, capsys):
    """10 restarts, each with an exit queued in the shim while containerd was down: the exit
    is forwarded within 100 ms of containerd's ttrpc socket reappearing (median and worst),
    exactly once each time, and containerd sees the task STOPPED."""
    from_socket, from_accept = [], []
    for i in range(10):
        cid = unique(cd, f"fast{i}")
        created_ms, accepting_ms, _ = timed_exit_while_down(cd, containerd, cid)
        from_socket.append(created_ms)
        from_accept.append(accepting_ms)
    assert_clean(cd)
    median, worst = statistics.median(from_socket), max(from_socket)
    report(capsys, "exit forwarded after containerd's ttrpc socket appeared, 10 restarts: "
                   f"median {median:.1f} ms, worst {worst:.1f} ms (from its first accepted dial: "
                   f"median {statistics.median(from_accept):.1f} ms, worst {max(from_accept):.1f} "
                   f"ms); all: {', '.join(f'{x:.1f}' for x in from_socket)}")
    assert median < 100 and worst < 100, from_socket


def context_switches(pid):
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key.endswith("ctxt_switches"):
            fields[key] = int(value)
    return fields["voluntary_ctxt_switches"] + fields["nonvoluntary_ctxt_switches"]


def test_no_busy_retry_while_containerd_down(cd, containerd, capsys):
    """With an exit queued and containerd down for 30 s, the shim wakes only for its slow
    safety net (5 s, then 10 s, 20 s, ...): no retry loop. Then the exit still arrives fast."""
    measured = {}

    def idle_30s(shim):
        time.sleep(1)  # past the first dials and their short burst
        before = context_switches(shim)
        time.sleep(30)
        measured["wakeups"] = context_switches(shim) - before

    created_ms, _, _ = timed_exit_while_down(cd, containerd, unique(cd, "idle"),
                                             during_outage=idle_30s)
    assert_clean(cd)
    report(capsys, f"shim with a queued exit, containerd down 30 s: {measured['wakeups']} "
                   f"context switches; exit forwarded {created_ms:.1f} ms after the socket "
                   "reappeared")
    # Measured: 5 on containerd 1.6 (the idle memory trim 1 s after the outage began, then the
    # safety net's dials at 5 s and 15 s, each followed by a trim), 6-7 on the 1.7 and 2.x
    # stacks; the backoff this replaced made 15, a retry loop would make hundreds.
    assert measured["wakeups"] <= 9, measured
    assert created_ms < 100


# -- the shim or the sandbox killed -----------------------------------------------------------


def test_shim_sigkill(cd, capsys):
    """A SIGKILLed shim: containerd sees the connection drop, runs our `delete` and publishes
    /tasks/exit with the 137 it returns; nothing is left (no sandbox or gofer, mount, socket,
    runsc state)."""
    log = EventLog(cd)
    try:
        log.subscribed()
        cid = unique(cd, "shimkill")
        start_detached(cd, cid)
        shim = shim_pid_of(cd, cid)
        sandbox = sandbox_pid_of(cd, cid)
        gofer = [p for p in children(shim) if cmdline(p).startswith("runsc-gofer ")]
        assert len(gofer) == 1, [cmdline(p)[:80] for p in children(shim)]
        since = len(cd.log_text())
        t0 = time.monotonic()
        os.kill(shim, signal.SIGKILL)

        # runsc gives sandbox and gofer a parent-death signal: they die with the shim (and
        # are reaped by whoever inherits them).
        assert wait_for(lambda: pid_gone(sandbox) and pid_gone(gofer[0]), 20, 0.1), (
            "sandbox/gofer outlived the killed shim:\n" + diag(cd, cid, since=since))
        died = time.monotonic() - t0

        def exits():
            return [p for t, p in log.events(cd.ns)
                    if t == "/tasks/exit" and p.get("container_id") == cid]
        assert wait_for(exits, 20, 0.1), "\n".join(log.lines) + diag(cd, cid, since=since)
        assert exits()[0].get("exit_status") == 137, exits()
        assert "cleaning up dead shim" in cd.log_text()[since:]
    finally:
        log.close()
    # containerd dropped the task; the container is deleted as usual.
    assert wait_for(lambda: task_status(cd, cid) is None, 10, 0.1), diag(cd, cid, since=since)
    r = cd.ctr("container", "delete", cid, timeout=30)
    assert (r.returncode, r.stderr) == (0, b""), diag(cd, cid, r, since)
    # Our `delete` (run by containerd) removes the runsc state, the socket and the mounts.
    state = RUNSC_STATE / cd.ns / cid

    def deleted():
        return (not state.exists() and not cd.socket_path(cid).exists()
                and harness.mounts_under(cd.dir) == [])
    done = wait_for(deleted, 30, 0.1)
    gone = time.monotonic() - t0
    leftover = [(p, c) for p, _, c in cd.our_processes()]
    assert done, (f"after {gone:.1f}s: state {state.exists()}, socket "
                  f"{cd.socket_path(cid).exists()}, mounts {harness.mounts_under(cd.dir)}, "
                  f"processes {leftover}\n" + diag(cd, cid, since=since))
    assert_clean(cd)
    report(capsys, f"shim SIGKILL -> sandbox and gofer dead in {died:.2f}s; runsc state, "
                   f"socket and mounts gone in {gone:.2f}s")


def test_sandbox_sigkill(cd):
    """/tasks/exit 137 reaches containerd, and the shim stays healthy."""
    log = EventLog(cd)
    try:
        log.subscribed()
        cid = unique(cd, "sbkill")
        start_detached(cd, cid)
        pid, _ = task_row(cd, cid)
        shim = shim_pid_of(cd, cid)
        assert pid == sandbox_pid_of(cd, cid)
        os.kill(pid, signal.SIGKILL)

        def exits():
            return [p for t, p in log.events(cd.ns)
                    if t == "/tasks/exit" and p.get("container_id") == cid]
        assert wait_for(exits, 10), "\n".join(log.lines) + diag(cd, cid)
        assert len(exits()) == 1, log.lines
        ev = exits()[0]
        assert (ev.get("id"), ev.get("pid"), ev.get("exit_status")) == (cid, pid, 137), ev
        assert task_row(cd, cid) == (pid, "STOPPED")
        # The shim still serves: State answered above; exec into the dead one is refused.
        assert not pid_gone(shim)
        r = cd.ctr("task", "exec", "--exec-id", "late", cid, "true", timeout=30)
        assert r.returncode != 0 and b"stopped" in r.stderr, diag(cd, cid, r)

        # A second container in the same namespace runs normally meanwhile.
        r = cd.run_container(unique(cd, "second"), ["echo", "still fine"], timeout=60)
        assert (r.returncode, r.stdout) == (0, b"still fine\n"), diag(cd, None, r)

        delete_stopped(cd, cid, expect_status=137)
        assert wait_for(lambda: any(t == "/tasks/delete" and p.get("container_id") == cid
                                    for t, p in log.events(cd.ns)), 10), log.lines
    finally:
        log.close()
    assert_clean(cd)


# -- runsc misbehaving --------------------------------------------------------------------


def fake_runsc_toml(cd, script):
    """A shim TOML whose runsc is one of our delegating fakes."""
    path = cd.dir / f"shim-{script}.toml"
    path.write_text(f'binary_name = "{FAKE_RUNSC / script}"\n\n[runsc_config]\nnetwork = "none"\n')
    return path


def run_failing(cd, name, script, message):
    """`ctr run -d` with fake runsc `script`: ctr must fail within 20 s, saying `message`.
    Returns the container id."""
    cid = unique(cd, name)
    t0 = time.monotonic()
    r = run_detached(cd, cid, runtime_config=fake_runsc_toml(cd, script))
    took = time.monotonic() - t0
    assert r.returncode != 0, diag(cd, cid, r)
    assert message in r.stderr, diag(cd, cid, r)
    assert took < 20, f"ctr took {took:.1f}s to fail"
    return cid


def remove_never_created(cd, cid):
    """After a failed create: no task is listed, and the container record goes cleanly."""
    assert task_row(cd, cid) is None, diag(cd, cid)
    r = cd.ctr("container", "delete", cid, timeout=30)
    assert r.returncode == 0, diag(cd, cid, r)
    assert_clean(cd)


def test_runsc_create_fails(cd):
    cid = run_failing(cd, "failcreate", "fail_create_delegating.sh", b"fake failure in create")
    remove_never_created(cd, cid)


def test_runsc_create_exits_early(cd):
    # runsc said nothing: the missing pid file is what the shim can tell.
    cid = run_failing(cd, "earlycreate", "exit_early_create_delegating.sh", b"init.pid")
    remove_never_created(cd, cid)


def test_runsc_start_exits_early(cd):
    cid = run_failing(cd, "earlystart", "exit_early_start_delegating.sh",
                      b"runsc start: exit status 1")
    # The real create made a sandbox: the task is CREATED, as ctr left it.
    row = task_row(cd, cid)
    assert row is not None and row[1] == "CREATED", (row, diag(cd, cid))
    sandbox = row[0]
    assert not pid_gone(sandbox)
    kill_created_and_remove(cd, cid, sandbox)


def kill_created_and_remove(cd, cid, sandbox):
    """A task whose Start failed is removed as with runc: SIGKILL, then delete (ctr's delete,
    even with -f, refuses a CREATED task with a pid)."""
    r = cd.ctr("task", "kill", "-s", "SIGKILL", cid, timeout=30)
    assert r.returncode == 0, diag(cd, cid, r)
    assert wait_for(lambda: task_status(cd, cid) == "STOPPED", 15, 0.1), diag(cd, cid)
    assert wait_for(lambda: pid_gone(sandbox), 5)
    delete_stopped(cd, cid, expect_status=137)
    assert_clean(cd)


def test_runsc_start_hangs(cd, capsys):
    """runsc start never returns: the shim's deadline for it is 60 s, so ctr fails after about
    a minute; meanwhile the same shim keeps answering (ctr task ls asks it for State) and a
    second container runs. Afterwards nothing is left."""
    cid = unique(cd, "hangstart")
    cd.track(cd.ns, cid)
    toml = fake_runsc_toml(cd, "hang_start_delegating.sh")
    args = ["run", "-d", "--runtime", harness.RUNSC_RUNTIME, "--runtime-config-path", str(toml),
            *(f"--env={e}" for e in harness.DEFAULT_ENV), "--rootfs", str(cd.rootfs), cid,
            "sleep", "1000"]
    t0 = time.monotonic()
    hung = subprocess.Popen(["timeout", "-s", "KILL", "120", harness.STACK.ctr, "-a", cd.address, "-n", cd.ns,
                             *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        # The task is created, and its Start hangs in the shim.
        assert wait_for(lambda: task_status(cd, cid) == "CREATED", 20, 0.1), diag(cd, cid)
        time.sleep(1)
        assert hung.poll() is None, hung.communicate()
        # The fake's `exec sleep 1000` (it inherits the shim's TTRPC_ADDRESS: ours).
        hang = [pid for pid, comm, cmd in cd.our_processes() if cmd == "sleep 1000"]
        assert len(hang) == 1, cd.our_processes()
        # Other calls on the same shim go on: State (ctr task ls), Pids (ctr task ps).
        t1 = time.monotonic()
        assert task_status(cd, cid) == "CREATED"
        state_s = time.monotonic() - t1
        assert state_s < 2, f"State took {state_s:.2f}s while Start hangs"
        # runsc itself refuses `ps` of a created container; the answer comes at once.
        t1 = time.monotonic()
        r = cd.ctr("task", "ps", cid, timeout=10)
        ps_s = time.monotonic() - t1
        assert (r.returncode, ps_s < 5) == (1, True), diag(cd, cid, r)
        # (containerd 1.x appends the code to the message, ": failed precondition"; 2.x
        # does not: the code is checked on the shim itself below.)
        assert b"in state created" in r.stderr, diag(cd, cid, r)
        # Straight to the same shim: Connect answers, Pids is refused as a precondition, a
        # second Start is refused at once.
        with tt.Client(str(cd.socket_path(cid)), timeout=5) as c:
            meta = [("containerd-namespace-ttrpc", cd.ns)]
            code, msg, _ = c.call(tt.TASK, "Connect", tt.field_bytes(1, cid), metadata=meta)
            assert code == tt.OK, msg
            code, msg, _ = c.call(tt.TASK, "Pids", tt.field_bytes(1, cid), metadata=meta)
            assert (code, "in state created" in msg) == (tt.FAILED_PRECONDITION, True), msg
            code, msg, _ = c.call(tt.TASK, "Start", tt.field_bytes(1, cid), metadata=meta)
            assert (code, "already under way" in msg) == (tt.FAILED_PRECONDITION, True), msg
        # A second container, another shim, runs.
        r = cd.run_container(unique(cd, "beside"), ["echo", "beside"], timeout=60)
        assert (r.returncode, r.stdout) == (0, b"beside\n"), diag(cd, None, r)
        out, err = hung.communicate(timeout=100)
    finally:
        if hung.poll() is None:
            os.killpg(hung.pid, signal.SIGKILL)
            hung.wait()
    took = time.monotonic() - t0
    assert hung.returncode != 0 and hung.returncode != -9, (hung.returncode, err)
    assert b"runsc start timed out after 60s" in err, err
    assert 55 < took < 90, f"ctr failed after {took:.1f}s"
    assert not [pid for pid in hang if not pid_gone(pid)], "the hung runsc start is still there"
    report(capsys, f"hung runsc start: ctr failed after {took:.1f}s; State meanwhile "
                   f"{state_s * 1000:.0f} ms, Pids {ps_s * 1000:.0f} ms")
    row = task_row(cd, cid)
    assert row is not None and row[1] == "CREATED", (row, diag(cd, cid))
    kill_created_and_remove(cd, cid, row[0])
