"""One Stats call, three ways, for bench/exec_paths.py: ttrpc Task.Stats straight to the
shim's socket (the shim's own cost, no Go client starting), the CRI's ContainerStats
(the kubelet's call: containerd asks the shim's Stats and converts), and `ctr task metrics`
(for scale: ctr's start dominates it).

The CRI proto of tests/cri is a subset without ContainerStats, so its request is encoded
by hand (one field: container_id = 1) and its response decoded with the ttrpc client's
protobuf reader; the figures are only checked for presence.
"""

import time

from ttrpc_client import OK, TASK, Client, decode, field_bytes, first

CONTAINER_STATS = "/runtime.v1.RuntimeService/ContainerStats"


class ShimStats:
    """Task.Stats(id) on one shim connection, kept open between calls."""

    def __init__(self, socket_path, cid):
        self.client = Client(str(socket_path), timeout=30)
        self.cid = cid

    def once(self):
        t0 = time.monotonic()
        code, msg, payload = self.client.call(TASK, "Stats", field_bytes(1, self.cid))
        elapsed = time.monotonic() - t0
        if code != OK:
            return False, elapsed, msg
        any_ = decode(first(decode(payload), 1, b""))
        if not first(any_, 2):  # Any.value: the Metrics message
            return False, elapsed, "Stats answered without metrics"
        return True, elapsed, ""

    def close(self):
        self.client.close()


class CriContainerStats:
    """The CRI's ContainerStats(container_id) through containerd's gRPC socket."""

    def __init__(self, channel, cid):
        self.call = channel.unary_unary(CONTAINER_STATS, request_serializer=lambda b: b,
                                        response_deserializer=lambda b: b)
        self.request = field_bytes(1, cid)

    def once(self):
        t0 = time.monotonic()
        try:
            raw = self.call(self.request, timeout=30)
        except Exception as e:  # noqa: BLE001 - counted as a failure
            return False, time.monotonic() - t0, str(e)[:300]
        elapsed = time.monotonic() - t0
        stats = decode(first(decode(raw), 1, b""))
        if not first(stats, 2):  # ContainerStats.cpu
            return False, elapsed, "ContainerStats without CPU figures"
        return True, elapsed, ""


class CtrMetrics:
    """`ctr task metrics ID` (spawned by exec_ctr.spawn_ctr)."""

    def __init__(self, spawn, cd, ns, cid):
        self.spawn, self.cd, self.ns, self.cid = spawn, cd, ns, cid

    def once(self):
        code, wall, _, err = self.spawn(self.cd, self.ns, "task", "metrics", self.cid)
        return code == 0, wall, err


def interleaved(callers, n):
    """n rounds of one call of each caller ({key: object with once()}), the order rotating.
    Returns {key: {"ms": [...], "failures": [...]}}."""
    keys = list(callers)
    out = {k: {"ms": [], "failures": []} for k in keys}
    for k in keys:  # warm-up
        callers[k].once()
    for i in range(n):
        for k in keys[i % len(keys):] + keys[:i % len(keys)]:
            ok, seconds, err = callers[k].once()
            (out[k]["ms"].append(round(seconds * 1000, 3)) if ok
             else out[k]["failures"].append(err))
    return out
