"""Stats and Update of containers inside one pod (issue 13). gVisor runs a pod's containers in
one sandbox, in one host cgroup: the host cannot tell them apart. So each container's Stats
comes from the sandbox's own accounting, and an Update of one app container gives the pod's
cgroup the sum of what its containers asked for, instead of capping the whole pod at that
one container's limit. Through ttrpc on the pod's shim (the CRI's ContainerStats and
UpdateContainerResources go there as Stats and Update)."""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import harness  # noqa: E402
import images  # noqa: E402
from test_pods import APP2, Pod, assert_clean, steps  # noqa: E402,F401
from ttrpc_client import OK, TASK, Client, decode, field_bytes, first  # noqa: E402

BUSY = ["sh", "-c", "while :; do :; done"]
RESOURCES_URL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"


def metrics(shim, cid):
    """(memory usage, cpu ns, pids) from Stats' io.containerd.cgroups.v1.Metrics."""
    code, msg, payload = shim.call(TASK, "Stats", field_bytes(1, cid))
    assert code == OK, msg
    any_ = decode(first(decode(payload), 1))
    assert first(any_, 1) == b"io.containerd.cgroups.v1.Metrics", any_
    m = decode(first(any_, 2))
    pids = first(decode(first(m, 2, b"")), 1, 0)
    cpu = first(decode(first(decode(first(m, 3, b"")), 1, b"")), 1, 0)
    memory = first(decode(first(decode(first(m, 4, b"")), 33, b"")), 2, 0)
    return memory, cpu, pids


def update(shim, cid, resources):
    any_ = field_bytes(1, RESOURCES_URL) + field_bytes(2, json.dumps(resources))
    code, msg, _ = shim.call(TASK, "Update", field_bytes(1, cid) + field_bytes(2, any_))
    assert code == OK, msg


def pod_cgroup(pid, controller):
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if controller in names.split(","):
            return Path("/sys/fs/cgroup") / controller / path.lstrip("/")
    raise AssertionError(f"no {controller} cgroup for {pid}")


def test_stats_and_update_per_container(env, steps):
    pod = Pod(env, "resources-runsc", "runsc", "host", steps)
    pod.run()
    busy, idle = pod.create("busy", BUSY), pod.create("idle", APP2)
    pod.start(busy, "busy")
    pod.start(idle, "idle")
    sandbox_pid = env.pod_info(pod.id)["pid"]
    memory_dir = pod_cgroup(sandbox_pid, "memory")
    cpu_dir = pod_cgroup(sandbox_pid, "cpuacct")
    socket = harness.shim_socket_path(env.address, images.CRI_NAMESPACE, pod.id)
    with Client(str(socket), timeout=30) as shim:
        time.sleep(2)  # the busy one burns CPU
        m_busy, m_idle, m_pod = (metrics(shim, c) for c in (busy, idle, pod.id))
        pod_memory = int((memory_dir / "memory.usage_in_bytes").read_text())
        pod_cpu = int((cpu_dir / "cpuacct.usage").read_text())
        # Each container's own: the busy one used more CPU than the idle one; together they
        # are no more than the pod's cgroup.
        assert m_busy[1] > 10 * m_idle[1] and m_busy[1] > 500_000_000, (m_busy, m_idle)
        assert m_busy[1] + m_idle[1] + m_pod[1] <= pod_cpu, (m_busy, m_idle, m_pod, pod_cpu)
        assert 0 < m_busy[0] + m_idle[0] + m_pod[0] <= pod_memory, (m_busy, m_idle, pod_memory)
        assert m_busy[2] >= 1 and m_idle[2] >= 1, (m_busy, m_idle)

        # Updating one container leaves the pod's limit alone while the other has none ...
        limit_file = memory_dir / "memory.limit_in_bytes"
        before = int(limit_file.read_text())
        update(shim, idle, {"memory": {"limit": 64 << 20}})
        assert int(limit_file.read_text()) == before, "one container's limit capped the pod"
        # ... and once both have one, the pod's cgroup gets their sum.
        update(shim, busy, {"memory": {"limit": 128 << 20}})
        assert int(limit_file.read_text()) == (64 + 128) << 20
        update(shim, idle, {"memory": {"limit": 96 << 20}})
        assert int(limit_file.read_text()) == (96 + 128) << 20
    for cid, name in ((busy, "busy"), (idle, "idle")):
        pod.stop_container(cid, name, timeout=0)
        pod.remove_container(cid, name)
    pod.stop()
    pod.remove()
    assert_clean(env)
