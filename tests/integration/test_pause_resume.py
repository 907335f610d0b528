"""Pause, resume and metrics through a private containerd (issue 4): what the Go gVisor shim
answered "not implemented" for."""

import subprocess
import time

import harness
from tasks import kill_and_remove, start_detached, task_status, unique


def test_pause_resume_states_and_events(cd):
    events = subprocess.Popen([harness.STACK.ctr, "-a", cd.address, "-n", cd.ns, "events"],
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
        kill_and_remove(cd, cid)
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
    kill_and_remove(cd, cid, expect_status=137)


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
        kill_and_remove(cd, cid)


def test_oom_before_exit(cd):
    """A container limited to 64 MiB that allocates far more: /tasks/oom, then /tasks/exit."""
    events = subprocess.Popen([harness.STACK.ctr, "-a", cd.address, "-n", cd.ns, "events"],
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
