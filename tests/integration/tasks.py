"""Helpers for driving tasks through ctr and a private containerd (see harness.py): detached
runs, `ctr task ls` rows, kill / delete with the exit status checked, and what a failed
assertion should show.

Every container id ends in the instance token (unique()): runsc names sandboxes host-wide,
and other runs of the suite share this machine.
"""

import json
import os
import re
import signal
import subprocess
import threading
import time

from contextlib import contextmanager
from pathlib import Path

import harness

TASKS_DIR = "io.containerd.runtime.v2.task"


def wait_for(pred, timeout, step=0.05):
    """Poll pred every `step` s until it is true or `timeout` s pass; its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


def unique(cd, name):
    # runsc names each sandbox's control socket after the container id, host-wide: ids must
    # not collide with another test run's on this machine.
    return f"{name}-{cd.token}"


def diag(cd, cid=None, r=None, since=0):
    """What a failed assertion should show: ctr's output, runsc's errors, containerd's log
    (which carries the shim's log lines) from `since` on, its tail at most."""
    out = []
    if r is not None:
        out.append(f"ctr rc={r.returncode} stdout={r.stdout[-2000:]!r} stderr={r.stderr[-2000:]!r}")
    if cid:
        log_json = cd.state / TASKS_DIR / cd.ns / cid / "log.json"
        if log_json.exists():
            errors = [l for l in log_json.read_text(errors="replace").splitlines()
                      if '"level":"error"' in l or '"level":"warning"' in l]
            out.append("--- runsc log.json (errors) ---\n" + "\n".join(errors[-10:]))
    out.append("--- containerd log (tail) ---\n" + cd.log_text()[since:][-6000:])
    return "\n".join(out)


def run_detached(cd, cid, cmd=("sleep", "1000"), runtime_config=None, extra_args=(),
                 timeout=60):
    """`ctr run -d` (extra_args go before --rootfs); returns ctr's CompletedProcess (the
    caller asserts)."""
    cd.track(cd.ns, cid)
    return cd.ctr("run", "-d", "--runtime", harness.RUNSC_RUNTIME, "--runtime-config-path",
                  str(runtime_config or cd.shim_toml), *(f"--env={e}" for e in harness.DEFAULT_ENV),
                  *extra_args, "--rootfs", str(cd.rootfs), cid, *cmd, timeout=timeout)


def start_detached(cd, cid, cmd=("sleep", "1000"), extra_args=(), runtime_config=None):
    """run_detached, which must print nothing and leave the task RUNNING."""
    r = run_detached(cd, cid, cmd, runtime_config=runtime_config, extra_args=extra_args)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"", b""), diag(cd, cid, r)
    assert task_row(cd, cid)[1] == "RUNNING", diag(cd, cid)


@contextmanager
def running(cd, name, cmd=("sleep", "1000"), runtime_config=None):
    """A detached container (unique id from `name`) for the duration of a `with`; SIGKILLed and
    deleted (137 checked) afterwards, whatever happened inside."""
    cid = unique(cd, name)
    start_detached(cd, cid, cmd, runtime_config=runtime_config)
    try:
        yield cid
    finally:
        kill_and_remove(cd, cid)


def task_row(cd, cid, timeout=30):
    """(pid, STATUS) of cid in `ctr task ls`, or None when it is not listed."""
    r = cd.ctr("task", "ls", timeout=timeout)
    assert r.returncode == 0, diag(cd, cid, r)
    for line in r.stdout.decode().splitlines()[1:]:
        fields = line.split()
        if fields and fields[0] == cid:
            return int(fields[1]), fields[2]
    return None


def task_status(cd, cid):
    """STATUS column of `ctr task ls` for cid, None if it is not listed."""
    row = task_row(cd, cid)
    return row[1] if row else None


def delete_stopped(cd, cid, expect_status):
    """`ctr task delete` of a STOPPED task (checking the exit status it reports), then
    `ctr container delete`."""
    r = cd.ctr("task", "delete", cid, timeout=30)
    assert r.returncode == 0, diag(cd, cid, r)
    if expect_status:
        # ctr prints the DeleteResponse's exit status when it is not 0.
        expected = f"exit with non-zero exit code {expect_status}".encode()
        assert expected in r.stderr, diag(cd, cid, r)
    else:
        assert b"non-zero exit code" not in r.stderr, diag(cd, cid, r)
    r = cd.ctr("container", "delete", cid, timeout=30)
    assert (r.returncode, r.stderr) == (0, b""), diag(cd, cid, r)
    assert task_row(cd, cid) is None


def kill_and_remove(cd, cid, expect_status=137):
    """SIGKILL a detached task, see it STOPPED, delete task and container."""
    r = cd.ctr("task", "kill", "-s", "SIGKILL", cid, timeout=30)
    assert r.returncode == 0, diag(cd, cid, r)
    assert wait_for(lambda: task_status(cd, cid) == "STOPPED", 15, 0.1), diag(cd, cid)
    delete_stopped(cd, cid, expect_status)


def ctr_argv(cd, *args, timeout=60):
    """The command line cd.ctr() runs, for callers that need a Popen."""
    return ["timeout", "-s", "KILL", str(timeout), harness.STACK.ctr, "-a", cd.address, "-n", cd.ns,
            *map(str, args)]


def popen_ctr(cd, *args, timeout=60, stdout=subprocess.PIPE, stderr=subprocess.PIPE):
    """ctr in the background, in a process group of its own (with its `timeout`)."""
    return subprocess.Popen(ctr_argv(cd, *args, timeout=timeout), stdin=subprocess.DEVNULL,
                            stdout=stdout, stderr=stderr, start_new_session=True)


def stop(proc):
    """Kill a popen_ctr process and its ctr (killing `timeout` alone leaves ctr)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


def task_pids(cd, cid):
    """PIDs `ctr task ps` lists (runsc's view: pids inside the sandbox)."""
    r = cd.ctr("task", "ps", cid, timeout=30)
    assert r.returncode == 0, diag(cd, cid, r)
    lines = r.stdout.decode().splitlines()
    assert lines and lines[0].split()[:2] == ["PID", "INFO"], r.stdout
    return [int(l.split()[0]) for l in lines[1:] if l.strip()]


def report(capsys, text):
    """A measured number, shown in `pytest -v` output even when the test passes."""
    with capsys.disabled():
        print(f"\n    [measured] {text}", flush=True)


EVENT_LINE = re.compile(r"^\S+ \S+ \S+ \S+ (\S+) (/\S+) (.*)$")


class EventLog:
    """`ctr events` in its own process, its lines collected by a thread. subscribed() makes
    sure the subscription is live: an event from before it is never shown."""

    def __init__(self, cd):
        self.cd = cd
        self.proc = subprocess.Popen([harness.STACK.ctr, "-a", cd.address, "events"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.lines = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.decode(errors="replace").rstrip("\n"))

    def subscribed(self, timeout=30):
        """Creates marker namespaces until one shows up in the stream."""
        markers, seen = [], False
        deadline = time.monotonic() + timeout
        while not seen and time.monotonic() < deadline:
            marker = self.cd.new_namespace(f"evmark{len(markers)}")
            markers.append(marker)
            assert self.cd.ctr("namespaces", "create", marker).returncode == 0
            # containerd 1.6 files the event under the creating client's namespace (ours),
            # 1.7 and 2.x under the new one.
            seen = wait_for(lambda: ("/namespaces/create", {"name": marker})
                            in self.events(self.cd.ns) + self.events(marker), 1)
        for marker in markers:
            self.cd.ctr("namespaces", "remove", marker)
        assert seen, f"ctr events showed none of {markers}: {self.lines}"

    def events(self, ns):
        """[(topic, payload dict)] of namespace ns, in arrival order."""
        out = []
        for line in list(self.lines):
            m = EVENT_LINE.match(line)
            if m and m.group(1) == ns:
                try:
                    out.append((m.group(2), json.loads(m.group(3))))
                except ValueError:
                    out.append((m.group(2), {"unparsed": m.group(3)}))
        return out

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.thread.join(5)


# The runsc state root the shims use (their TOML sets no other).
RUNSC_STATE = Path("/run/containerd/runsc")


def leftover_state(cd):
    """cd.leftovers() plus runsc state dirs and bundles of this test's namespace."""
    out = list(cd.leftovers())
    runsc_root = RUNSC_STATE / cd.ns  # the ns folder itself may stay; no sandbox root may
    if runsc_root.is_dir():
        out += [f"runsc state {p}" for p in runsc_root.iterdir()]
    bundles = cd.state / TASKS_DIR / cd.ns
    if bundles.is_dir():
        out += [f"bundle {p}" for p in bundles.iterdir()]
    return sorted(set(out))


def assert_clean(cd, timeout=10):
    """Nothing of this namespace's containers remains (the shim exits just after answering
    Shutdown, which ctr does not wait for: allow it a moment)."""
    wait_for(lambda: not leftover_state(cd), timeout, 0.1)
    left = leftover_state(cd)
    assert left == [], "left behind:\n" + "\n".join(left) + "\n" + diag(cd)
    r = cd.ctr("container", "ls", "-q", timeout=30)
    assert r.stdout == b"", r
