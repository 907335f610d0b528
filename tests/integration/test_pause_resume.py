"""Pause, resume and metrics through a private containerd (issue 4): what the Go gVisor shim
answered "not implemented" for."""

import subprocess
import time

from harness import DEFAULT_ENV, RUNSC_RUNTIME


def start_detached(cd, cid, cmd=("sleep", "1000")):
    r = cd.ctr("run", "-d", "--runtime", RUNSC_RUNTIME, "--runtime-config-path",
               str(cd.shim_toml), *(f"--env={e}" for e in DEFAULT_ENV), "--rootfs",
               str(cd.rootfs), cid, *cmd)
    assert r.returncode == 0, r
    cd.track(cd.ns, cid)


def wait_stopped(cd, cid, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if task_status(cd, cid) == "STOPPED":
            return
        time.sleep(0.05)
    raise AssertionError(f"{cid} did not stop")


def unique(cd, name):
    # runsc names each sandbox's control socket after the container id, host-wide: ids must
    # not collide with another test run's on this machine.
    return f"{name}-{cd.token}"


def remove(cd, cid):
    cd.ctr("task", "kill", "-s", "SIGKILL", cid)
    wait_stopped(cd, cid)
    r = cd.ctr("task", "delete", cid)
    assert r.returncode == 0, r
    r = cd.ctr("container", "delete", cid)
    assert r.returncode == 0, r


def task_status(cd, cid):
    r = cd.ctr("task", "ls")
    assert r.returncode == 0, r
    for line in r.stdout.decode().splitlines()[1:]:
        fields = line.split()
        if fields and fields[0] == cid:
            return fields[2]
    return None


def test_pause_resume_states_and_events(cd):
    events = subprocess.Popen(["ctr", "-a", cd.address, "-n", cd.ns, "events"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        cid = unique(cd, "p1")
        start_detached(cd, cid)
        r = cd.ctr("task", "pause", cid)
        assert r.returncode == 0, r
        assert task_status(cd, cid) == "PAUSED"
        # An exec into a paused container is refused clearly.
        r = cd.ctr("task", "exec", "--exec-id", "e1", cid, "true")
        assert r.returncode != 0
        assert b"paused" in r.stderr, r
        r = cd.ctr("task", "resume", cid)
        assert r.returncode == 0, r
        assert task_status(cd, cid) == "RUNNING"
        r = cd.ctr("task", "exec", "--exec-id", "e2", cid, "echo", "back")
        assert (r.returncode, r.stdout) == (0, b"back\n"), r
        remove(cd, cid)
        time.sleep(0.5)
    finally:
        events.kill()
        out = events.communicate()[0].decode()
    # ctr events prints: DATE TIME ZONE UTC NAMESPACE TOPIC PAYLOAD
    topics = [w for line in out.splitlines() for w in line.split()[:6] if w.startswith("/tasks/")]
    assert "/tasks/paused" in topics, out
    assert "/tasks/resumed" in topics, out
    assert topics.index("/tasks/paused") < topics.index("/tasks/resumed")


def test_kill_a_paused_container(cd):
    cid = unique(cd, "p2")
    start_detached(cd, cid)
    assert cd.ctr("task", "pause", cid).returncode == 0
    r = cd.ctr("task", "kill", "-s", "SIGKILL", cid)
    assert r.returncode == 0, r
    wait_stopped(cd, cid)
    r = cd.ctr("task", "delete", cid)
    assert r.returncode == 0, r
    assert b"exit code 137" in r.stderr, r
    assert cd.ctr("container", "delete", cid).returncode == 0


def test_metrics_show_memory_usage(cd):
    cid = unique(cd, "m1")
    start_detached(cd, cid)
    try:
        r = cd.ctr("task", "metrics", cid)
        assert r.returncode == 0, r
        text = r.stdout.decode()
        usage = [line for line in text.splitlines() if line.startswith("memory.usage_in_bytes")]
        assert usage, text
        assert int(usage[0].split()[1]) > 0, text
    finally:
        remove(cd, cid)


def test_oom_before_exit(cd):
    """A container limited to 64 MiB that allocates far more: /tasks/oom, then /tasks/exit."""
    events = subprocess.Popen(["ctr", "-a", cd.address, "-n", cd.ns, "events"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    cid = unique(cd, "oom")
    try:
        time.sleep(0.3)
        # dd's one 1 GiB buffer, filled by a single read: fast, and all of it touched.
        r = cd.run_container(cid, ["dd", "if=/dev/zero", "of=/dev/null", "bs=1024M", "count=1"],
                             extra_args=["--memory-limit", str(64 << 20)], timeout=120)
        assert r.returncode != 0, r
        time.sleep(0.5)
    finally:
        events.kill()
        out = events.communicate()[0].decode()
    mine = [line for line in out.splitlines() if cid in line]
    topics = [w for line in mine for w in line.split()[:6] if w.startswith("/tasks/")]
    assert "/tasks/oom" in topics, out
    assert topics.index("/tasks/oom") < topics.index("/tasks/exit"), topics
