"""Update (issue 4): runsc has no `update`, so the shim writes the sandbox's host cgroup.
ctr 1.6 cannot call Update: the test talks ttrpc to the shim's socket."""

import json
from pathlib import Path

from tasks import kill_and_remove, start_detached, unique
from ttrpc_client import INVALID_ARGUMENT, OK, TASK, Client, field_bytes

RESOURCES_URL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"


def update_request(cid, resources):
    any_ = field_bytes(1, RESOURCES_URL) + field_bytes(2, json.dumps(resources))
    return field_bytes(1, cid) + field_bytes(2, any_)


def cgroup_file(cd, cid, controller, name):
    return (Path("/sys/fs/cgroup") / controller / cd.ns / cid / name).read_text().strip()


def test_update_writes_the_sandbox_cgroup(cd):
    cid = unique(cd, "up")
    start_detached(cd, cid)
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
        kill_and_remove(cd, cid)
