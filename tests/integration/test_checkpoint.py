"""Checkpoint and restore (issue 4). ctr 1.6 cannot restore into a new container, so the test
talks ttrpc to the shim's socket: Checkpoint a counting container run through containerd,
then start a second shim by hand and Create it from the checkpoint; the count carries on."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import harness
from tasks import kill_and_remove, start_detached, unique, wait_for
from ttrpc_client import OK, TASK, Client, decode, field_bytes, first

COUNTER = "i=0; while true; do echo $i; i=$((i+1)); sleep 0.1; done"


def numbers(path):
    try:
        return [int(x) for x in Path(path).read_text().split() if x.isdigit()]
    except FileNotFoundError:
        return []


def runtime_options(config_path):
    """CreateTaskRequest.options: runtimeoptions.v1.Options{config_path}, no type URL (as ctr
    --runtime-config-path sends it)."""
    options = field_bytes(2, str(config_path))
    return field_bytes(10, field_bytes(2, options))


def test_checkpoint_then_restore_carries_on(cd, tmp_path):
    cid = unique(cd, "ck")
    log = tmp_path / "counter.log"
    start_detached(cd, cid, ["sh", "-c", COUNTER], extra_args=["--log-uri", f"file://{log}"])
    assert wait_for(lambda: len(numbers(log)) >= 10, 20, 0.1), log.read_text()

    image = tmp_path / "image"
    with Client(str(cd.socket_path(cid)), timeout=60) as shim:
        code, msg, _ = shim.call(TASK, "Checkpoint",
                                 field_bytes(1, cid) + field_bytes(2, str(image)))
    assert code == OK, msg
    assert any(image.iterdir()), "runsc wrote no checkpoint image"
    before = max(numbers(log))
    # Left running (ctr's default): the same container counts on in a new sandbox.
    assert wait_for(lambda: max(numbers(log)) > before + 3, 20, 0.1), log.read_text()[-200:]
    assert f"{cid} " in cd.ctr("task", "ls").stdout.decode()
    assert "RUNNING" in cd.ctr("task", "ls").stdout.decode()

    # The first container goes; its bundle's spec and rootfs serve the restored one.
    bundle_a = Path(cd.state) / "io.containerd.runtime.v2.task" / cd.ns / cid
    spec = json.loads((bundle_a / "config.json").read_text())
    kill_and_remove(cd, cid)

    restored = unique(cd, "rs")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    spec["root"]["path"] = str(cd.rootfs)
    spec["linux"]["cgroupsPath"] = f"/{cd.ns}/{restored}"
    (bundle / "config.json").write_text(json.dumps(spec))
    os.mkfifo(bundle / "log")
    drain = subprocess.Popen(["cat", str(bundle / "log")], stdout=subprocess.DEVNULL)
    out = tmp_path / "restored.log"
    out.touch()  # a plain file path: containerd creates the endpoints before Create
    env = dict(os.environ, TTRPC_ADDRESS=cd.ttrpc_address)
    start = subprocess.run([str(cd.shim), "-namespace", cd.ns, "-address", cd.address,
                            "-publish-binary", harness.STACK.containerd, "-id", restored, "start"],
                           cwd=bundle, env=env, capture_output=True, timeout=10)
    assert start.returncode == 0, start
    address = start.stdout.decode().strip()
    shim_pid = int((bundle / "shim.pid").read_text())
    try:
        with Client(address, timeout=30) as shim:
            create = (field_bytes(1, restored) + field_bytes(2, str(bundle)) +
                      field_bytes(6, str(out)) + field_bytes(7, str(out)) +
                      field_bytes(8, str(image)) + runtime_options(cd.shim_toml))
            code, msg, _ = shim.call(TASK, "Create", create)
            assert code == OK, msg
            code, msg, payload = shim.call(TASK, "Start", field_bytes(1, restored))
            assert code == OK, msg
            assert first(decode(payload), 1, 0) > 0  # the restored sandbox's pid
            assert wait_for(lambda: len(numbers(out)) >= 3, 20, 0.1), out.read_text()
            after = numbers(out)
            # Carried on from the checkpoint, not from zero.
            assert after[0] >= before - 1, (before, after[:5])
            code, msg, _ = shim.call(TASK, "Kill", field_bytes(1, restored) + bytes([0x18, 9]))
            assert code == OK, msg
            code, msg, payload = shim.call(TASK, "Wait", field_bytes(1, restored))
            assert code == OK, msg
            assert first(decode(payload), 1, 0) == 137
            code, msg, _ = shim.call(TASK, "Delete", field_bytes(1, restored))
            assert code == OK, msg
            shim.call(TASK, "Shutdown", field_bytes(1, restored))
    finally:
        # Whatever happened above, the hand-started shim and its sandbox go.
        try:
            with Client(address, timeout=30) as shim:
                shim.call(TASK, "Kill", field_bytes(1, restored) + bytes([0x18, 9]))
                shim.call(TASK, "Delete", field_bytes(1, restored))
                shim.call(TASK, "Shutdown", field_bytes(1, restored))
        except (OSError, EOFError):
            pass  # already shut down
        # It exits once its queued events are out (up to 2 s after Shutdown): the module's
        # leak check comes right after this test.
        wait_for(lambda: harness._is_gone(shim_pid), 10)
        drain.kill()
        shutil.rmtree(image, ignore_errors=True)
