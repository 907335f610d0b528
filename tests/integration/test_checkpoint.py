"""Checkpoint and restore (issues 4 and 11). ctr 1.6 cannot restore into a new container, so
the tests talk ttrpc to the shim's socket: Checkpoint a counting container run through
containerd, then start a second shim by hand (hand_shim.py) and Create it from the image; the
count carries on from where it was.

The second test does what containerd's client does with WithCheckpointImagePath and
WithRestoreImagePath: runc's CheckpointOptions name where the image goes, runc's CreateOptions
(CriuImagePath) where a restore comes from, and the restore gets a fresh rootfs without the
/run that containerd's default spec mounts a tmpfs on (runsc restore, unlike create, makes no
mount points).
"""

import shutil
import tempfile
from pathlib import Path

import harness
from hand_shim import (HandStartedShim, any_message, oci_spec, runc_create_options,
                       runtimeoptions)
from tasks import kill_and_remove, start_detached, task_status, unique, wait_for
from ttrpc_client import OK, TASK, Client, decode, field_bytes, field_varint, first

COUNTER = "i=0; while true; do echo $i; i=$((i+1)); sleep 0.1; done"


def numbers(path):
    try:
        return [int(x) for x in Path(path).read_text().split() if x.isdigit()]
    except FileNotFoundError:
        return []


def start_counter(cd, cid, log):
    start_detached(cd, cid, ["sh", "-c", COUNTER], extra_args=["--log-uri", f"file://{log}"])
    assert wait_for(lambda: len(numbers(log)) >= 10, 20, 0.1), log.read_text()


def checkpoint(cd, cid, path="", options=b""):
    with Client(str(cd.socket_path(cid)), timeout=60) as shim:
        code, msg, _ = shim.call(TASK, "Checkpoint", field_bytes(1, cid) +
                                 field_bytes(2, str(path)) + field_bytes(3, options))
    assert code == OK, msg


def restore_and_count_on(shim, before, out, options=b"", checkpoint=""):
    """Create (from the image) and Start the hand-started shim's container; its count must
    carry on from `before`, not start from zero. Ends it with SIGKILL (137)."""
    code, msg, _ = shim.create(options, stdout=out, stderr=out, checkpoint=checkpoint)
    assert code == OK, msg + shim.log_text()
    code, msg, payload = shim.start()
    assert code == OK, msg + shim.log_text()
    assert first(decode(payload), 1, 0) > 0  # the restored sandbox's pid
    assert wait_for(lambda: len(numbers(out)) >= 3, 20, 0.1), out.read_text()
    after = numbers(out)
    assert after[0] >= before - 1, (before, after[:5])
    code, msg, _ = shim.call("Kill", field_bytes(1, shim.cid) + field_varint(3, 9))
    assert code == OK, msg
    assert shim.wait()[::2] == (OK, 137)


def test_checkpoint_then_restore_carries_on(cd, tmp_path):
    cid = unique(cd, "ck")
    log = tmp_path / "counter.log"
    start_counter(cd, cid, log)
    image = tmp_path / "image"
    checkpoint(cd, cid, image)
    assert any(image.iterdir()), "runsc wrote no checkpoint image"
    before = max(numbers(log))
    # Left running (ctr's default): the same container counts on in a new sandbox.
    assert wait_for(lambda: max(numbers(log)) > before + 3, 20, 0.1), log.read_text()[-200:]
    assert task_status(cd, cid) == "RUNNING"
    kill_and_remove(cd, cid)

    restored = unique(cd, "rs")
    out = tmp_path / "restored.log"
    out.touch()  # a plain file path: containerd creates the endpoints before Create
    spec = oci_spec(cd.rootfs, ["sh", "-c", COUNTER], f"/{cd.ns}/{restored}")
    with HandStartedShim(cd, restored, spec) as shim:
        restore_and_count_on(shim, before, out, runtimeoptions(cd.shim_toml),
                             checkpoint=image)
    shutil.rmtree(image, ignore_errors=True)


def test_checkpoint_image_path_and_restore_image_path(cd, tmp_path, default_toml):
    cid = unique(cd, "ckpath")
    log = tmp_path / "counter.log"
    start_counter(cd, cid, log)
    # containerd passes its own folder in `path`; the client's ImagePath wins, and with
    # `exit` the container stops once checkpointed.
    theirs, ours = tmp_path / "containerd-dir", tmp_path / "client-dir" / "cr"
    options = any_message("containerd.runc.v1.CheckpointOptions",
                          field_varint(1, 1) + field_bytes(8, str(ours)))
    checkpoint(cd, cid, theirs, options)
    assert any(ours.iterdir()), "no image where the client asked"
    assert wait_for(lambda: task_status(cd, cid) == "STOPPED", 10, 0.1)
    before = max(numbers(log))
    r = cd.ctr("task", "delete", cid)
    assert r.returncode == 0, r
    assert cd.ctr("container", "delete", cid).returncode == 0

    top = Path(tempfile.mkdtemp(prefix="shimtest-fresh-"))
    try:
        rootfs = harness.build_busybox_rootfs(top / "rootfs")
        assert not (rootfs / "run").exists()
        restored = unique(cd, "rspath")
        out = tmp_path / "restored.log"
        out.touch()
        spec = oci_spec(rootfs, ["sh", "-c", COUNTER], f"/{cd.ns}/{restored}")
        with HandStartedShim(cd, restored, spec) as shim:
            restore_and_count_on(shim, before, out, runc_create_options(criu_image_path=ours))
    finally:
        shutil.rmtree(top)
