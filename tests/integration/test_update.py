"""Update (issue 4): runsc has no `update`, so the shim writes the sandbox's host cgroup.
ctr 1.6 cannot call Update: the test talks ttrpc to the shim's socket."""

import json
import time
from pathlib import Path

from harness import DEFAULT_ENV, RUNSC_RUNTIME
from ttrpc_client import INVALID_ARGUMENT, OK, TASK, Client, field_bytes

RESOURCES_URL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"


def update_request(cid, resources):
    any_ = field_bytes(1, RESOURCES_URL) + field_bytes(2, json.dumps(resources))
    return field_bytes(1, cid) + field_bytes(2, any_)


def cgroup_file(cd, cid, controller, name):
    return (Path("/sys/fs/cgroup") / controller / cd.ns / cid / name).read_text().strip()


def test_update_writes_the_sandbox_cgroup(cd):
    cid = f"up-{cd.token}"
    r = cd.ctr("run", "-d", "--runtime", RUNSC_RUNTIME, "--runtime-config-path", str(cd.shim_toml),
               *(f"--env={e}" for e in DEFAULT_ENV), "--rootfs", str(cd.rootfs), cid,
               "sleep", "1000")
    assert r.returncode == 0, r
    cd.track(cd.ns, cid)
    try:
        with Client(str(cd.socket_path(cid)), timeout=30) as shim:
            code, msg, _ = shim.call(TASK, "Update", update_request(cid, {
                "memory": {"limit": 512 << 20},
                "cpu": {"shares": 512, "quota": 50000, "period": 100000},
                "pids": {"limit": 200},
            }))
            assert code == OK, msg
            assert cgroup_file(cd, cid, "memory", "memory.limit_in_bytes") == str(512 << 20)
            assert cgroup_file(cd, cid, "cpu", "cpu.shares") == "512"
            assert cgroup_file(cd, cid, "cpu", "cpu.cfs_quota_us") == "50000"
            assert cgroup_file(cd, cid, "pids", "pids.max") == "200"

            # What cannot be applied is refused, clearly, and nothing half-done.
            code, msg, _ = shim.call(TASK, "Update", update_request(cid, {
                "blockIO": {"weight": 100}}))
            assert code == INVALID_ARGUMENT, msg
            assert "blockIO" in msg or "block" in msg.lower(), msg
            code, msg, _ = shim.call(TASK, "Update", field_bytes(1, cid) + field_bytes(
                2, field_bytes(1, RESOURCES_URL) + field_bytes(2, "{not json")))
            assert code == INVALID_ARGUMENT, msg

            # Stats read the same cgroup.
            code, msg, payload = shim.call(TASK, "Stats", field_bytes(1, cid))
            assert code == OK, msg
            assert b"io.containerd.cgroups.v1.Metrics" in payload
    finally:
        cd.ctr("task", "kill", "-s", "SIGKILL", cid)
        for _ in range(100):
            if b"STOPPED" in cd.ctr("task", "ls").stdout:
                break
            time.sleep(0.05)
        cd.ctr("task", "delete", cid)
        cd.ctr("container", "delete", cid)
