"""Behaviours containerd's Go client relies on (issue 11), each found by containerd's own
client suite and checked here through ctr or ttrpc on the shim's socket:

- ResizePty of a process without a terminal succeeds and does nothing (TestTaskResize);
- an exec with a terminal whose process spec says `terminal: false` (the client sends the
  container's spec.Process and the flag beside it) gets all its output and its exit code
  (TestContainerExecLargeOutputWithTTY);
- stdin stays open until CloseIO, even when the client closes its fifo writer;
- a binary that does not exist fails Create, with no /tasks/exit and nothing left
  (TestContainerNoBinaryExists, TestRegressionIssue6429);
- a container whose runsc state was removed under it ends at the next Kill, which answers
  NotFound (TestKillContainerDeletedByRunc).
"""

import json
import os
import shutil
import threading
import time
from pathlib import Path

from tasks import (EventLog, assert_clean, diag, kill_and_remove, running, start_detached,
                   task_status, unique, wait_for)
from ttrpc_client import NOT_FOUND, OK, TASK, Client, decode, field_bytes, field_varint, first

PROCESS_SPEC_URL = "types.containerd.io/opencontainers/runtime-spec/1/Process"
RUNNING = 2


def exec_request(cid, exec_id, args, stdin="", stdout="", stderr="", terminal=False,
                 spec_terminal=False):
    spec = json.dumps({"args": args, "cwd": "/", "env": ["PATH=/bin"],
                       "user": {"uid": 0, "gid": 0}, "terminal": spec_terminal})
    return (field_bytes(1, cid) + field_bytes(2, exec_id) + field_varint(3, int(terminal)) +
            field_bytes(4, str(stdin)) + field_bytes(5, str(stdout)) +
            field_bytes(6, str(stderr)) +
            field_bytes(7, field_bytes(1, PROCESS_SPEC_URL) + field_bytes(2, spec)))


def ids(cid, exec_id=""):
    return field_bytes(1, cid) + field_bytes(2, exec_id)


class FifoReader:
    """A client's read side of an output fifo, opened before the shim opens its writer, read
    into memory by a thread until EOF. Until started() (call it once the shim has the fifo
    open, i.e. after Start) a writer of our own keeps an early EOF away."""

    def __init__(self, path):
        os.mkfifo(path)
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.placeholder = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.set_blocking(self.fd, True)
        self.data = bytearray()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def started(self):
        os.close(self.placeholder)
        self.placeholder = None

    def _read(self):
        while True:
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return
            self.data += chunk

    def close(self):
        if self.placeholder is not None:
            self.started()
        self.thread.join(10)
        os.close(self.fd)


def test_resize_without_terminal_is_a_no_op(cd):
    cid = unique(cd, "resize")
    start_detached(cd, cid)
    with Client(str(cd.socket_path(cid)), timeout=30) as shim:
        code, msg, _ = shim.call(TASK, "ResizePty",
                                 ids(cid) + field_varint(3, 80) + field_varint(4, 24))
        assert code == OK, msg
        code, msg, payload = shim.call(TASK, "State", ids(cid))
        assert code == OK and first(decode(payload), 4) == RUNNING, (code, msg)
    kill_and_remove(cd, cid)
    assert_clean(cd, timeout=5)


def test_exec_terminal_from_the_request(cd, tmp_path):
    """Terminal requested, spec's `terminal` false: 6.9 MB of `seq` arrive whole, exit 0."""
    stdin = tmp_path / "in"
    os.mkfifo(stdin)
    out = FifoReader(tmp_path / "out")
    with running(cd, "ttyflag") as cid, Client(str(cd.socket_path(cid)), timeout=60) as shim:
        code, msg, _ = shim.call(TASK, "Exec", exec_request(
            cid, "big", ["sh", "-c", 'seq -s " " 1000000'], stdin=stdin,
            stdout=tmp_path / "out", terminal=True))
        assert code == OK, msg
        code, msg, _ = shim.call(TASK, "Start", ids(cid, "big"))
        assert code == OK, msg
        out.started()
        # The client's writer, closed at once, as containerd's client does with no input.
        os.close(os.open(stdin, os.O_WRONLY | os.O_NONBLOCK))
        code, msg, payload = shim.call(TASK, "Wait", ids(cid, "big"))
        assert code == OK, msg
        assert first(decode(payload), 1, 0) == 0, diag(cd, cid)
        out.close()
        shim.call(TASK, "Delete", ids(cid, "big"))
    # The pty turns each "\n" into "\r\n": one line, the last.
    expected = " ".join(str(i) for i in range(1, 1000001)).encode() + b"\r\n"
    assert len(out.data) == len(expected) and out.data == expected, len(out.data)
    assert_clean(cd, timeout=5)


def test_stdin_stays_open_until_close_io(cd, tmp_path):
    stdin = tmp_path / "in"
    os.mkfifo(stdin)
    out = FifoReader(tmp_path / "out")
    payload_in = bytes(range(256)) * 800  # 200 KiB
    with running(cd, "stdinhold") as cid, Client(str(cd.socket_path(cid)), timeout=60) as shim:
        code, msg, _ = shim.call(TASK, "Exec", exec_request(
            cid, "cat", ["cat"], stdin=stdin, stdout=tmp_path / "out"))
        assert code == OK, msg
        code, msg, _ = shim.call(TASK, "Start", ids(cid, "cat"))
        assert code == OK, msg
        out.started()
        writer = os.open(stdin, os.O_WRONLY)
        view = memoryview(payload_in)
        while view:
            view = view[os.write(writer, view):]
        os.close(writer)  # the client's end goes: not the process's EOF
        time.sleep(0.3)
        code, msg, payload = shim.call(TASK, "State", ids(cid, "cat"))
        assert code == OK and first(decode(payload), 4) == RUNNING, (code, msg, diag(cd, cid))
        code, msg, _ = shim.call(TASK, "CloseIO", ids(cid, "cat") + field_varint(3, 1))
        assert code == OK, msg
        code, msg, payload = shim.call(TASK, "Wait", ids(cid, "cat"))
        assert code == OK and first(decode(payload), 1, 0) == 0, (code, msg)
        out.close()
        shim.call(TASK, "Delete", ids(cid, "cat"))
    assert bytes(out.data) == payload_in, len(out.data)
    assert_clean(cd, timeout=5)


def test_missing_binary_fails_create(cd):
    events = EventLog(cd)
    try:
        events.subscribed()
        for cid, cmd in ((unique(cd, "nobin"), ["nothing-here"]),
                         (unique(cd, "nopath"), ["/bin/nothing-here"])):
            r = cd.run_container(cid, cmd)
            assert r.returncode != 0, diag(cd, cid, r)
            assert b"nothing-here" in r.stderr, diag(cd, cid, r)
            assert b"failed to create shim task" in r.stderr, diag(cd, cid, r)
        time.sleep(0.5)
        topics = [topic for topic, _ in events.events(cd.ns)]
        assert "/tasks/exit" not in topics and "/tasks/create" not in topics, topics
    finally:
        events.close()
    assert_clean(cd, timeout=5)


def test_kill_after_runsc_state_is_gone(cd):
    cid = unique(cd, "nostate")
    start_detached(cd, cid)
    root = Path("/run/containerd/runsc") / cd.ns / cid
    assert root.is_dir()
    shutil.rmtree(root)  # what `runc delete` on a shared --root does to it
    # The code on the shim itself: containerd 2's ctr leaves it out of its message.
    with Client(str(cd.socket_path(cid)), timeout=30) as shim:
        code, msg, _ = shim.call(TASK, "Kill", ids(cid) + field_varint(3, 9))
    assert code == NOT_FOUND, (code, msg)
    assert wait_for(lambda: task_status(cd, cid) == "STOPPED", 2, 0.05), diag(cd, cid)
    r = cd.ctr("task", "delete", cid, timeout=30)
    assert r.returncode == 0, diag(cd, cid, r)
    r = cd.ctr("container", "delete", cid, timeout=30)
    assert r.returncode == 0, diag(cd, cid, r)
    assert_clean(cd, timeout=5)
