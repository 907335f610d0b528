"""The CRI side of bench/exec_paths.py: exec probes on many pods, the kubelet's way
(ExecSync), on the two exec paths; and a two-container pod for Stats.

ExecCriContainerd is tests/cri's private CRI containerd plus one runtime handler,
`runsc-exec`: our shim with a TOML that says `direct_exec = false`. Handler `runsc` is the
default path. Both serve host-network pods (`network = "none"`), as pods.py's do.
"""

import threading
import time

import cpu_time
import cri_env
import harness
import run  # bench/run.py: the /proc readers
from test_pods import APP2, Pod

RUNSC_EXEC_HANDLER = "runsc-exec"
HANDLER_LABEL = {"runsc": "direct (control socket)",
                 RUNSC_EXEC_HANDLER: "`runsc exec` (direct_exec = false)"}


class ExecCriContainerd(cri_env.CriContainerd):
    """CriContainerd with the extra handler `runsc-exec` (direct_exec = false)."""

    def _prepare(self, containerd):
        config = super()._prepare(containerd)
        toml = containerd.dir / "runsc-exec.toml"
        harness.write_shim_toml(toml, network="none",
                                top=f'root = "{self.runsc_root}"\ndirect_exec = false')
        plugin = ('plugins."io.containerd.cri.v1.runtime"' if harness.STACK.major >= 2
                  else f"plugins.{cri_env.CRI}")
        table = f"{plugin}.containerd.runtimes.{RUNSC_EXEC_HANDLER}"
        return config + f"""
[{table}]
  runtime_type = "{harness.RUNSC_RUNTIME}"
[{table}.options]
  TypeUrl = "io.containerd.runsc.v1.options"
  ConfigPath = "{toml}"
"""


def start_pod(env, name, handler, apps):
    """A host-network pod on handler with one `sleep` app container per name in apps.
    Returns (pod, [container ids])."""
    pod = Pod(env, name, "runsc", "host", [])
    pod.handler = handler
    pod.run()
    cids = []
    for app in apps:
        cid = pod.create(app, APP2)
        pod.start(cid, app)
        cids.append(cid)
    return pod, cids


def remove_pod(pod, cids):
    for i, cid in enumerate(cids):
        pod.stop_container(cid, f"app{i}", timeout=0)
        pod.remove_container(cid, f"app{i}")
    pod.stop()
    pod.remove()


def shim_pids(env, pod_ids):
    """{pod id: pid} of the shims serving those pods (exe = our shim, `-id POD` on its
    command line, this containerd's address in it)."""
    shim = str(env.containerd.shim.resolve())
    out = {}
    for pid, p in run.processes().items():
        argv = p["cmdline"]
        if (p["exe"] == shim and env.address in " ".join(argv) and "-id" in argv[:-1]
                and argv[argv.index("-id") + 1] in pod_ids):
            out[argv[argv.index("-id") + 1]] = pid
    return out


class ProbedPods:
    """The pods of one handler, their shims moved into one cgroup, their sandboxes'
    cgroups known: what a minute of probes costs, part by part."""

    def __init__(self, env, handler, count, parallel, log):
        self.env, self.handler, self.label = env, handler, HANDLER_LABEL[handler]
        self.pods = []
        lock = threading.Lock()

        def one(i):
            pod, cids = start_pod(env, f"probe-{handler}-{i:02d}", handler, ["app0"])
            with lock:
                self.pods.append((pod, cids))

        parallel_map(one, range(count), parallel)
        ids = {pod.id for pod, _ in self.pods}
        pids = shim_pids(env, ids)
        if set(pids) != ids:
            raise RuntimeError(f"{handler}: shims for {len(pids)} of {len(ids)} pods")
        self.shims = cpu_time.CpuCgroup(f"probecpu-{handler}-{env.token}")
        self.shim_pids = list(pids.values())
        for pid in self.shim_pids:
            self.shims.add(pid)
        self.sandbox_cgroups = [cpu_time.cgroup_of(env.pod_info(pod.id)["pid"])
                                for pod, _ in self.pods]
        for pod, cids in self.pods:  # a first exec per pod, not counted
            pod.exec(cids[0], ["/bin/true"])
        log(f"probes: {len(self.pods)} pods up on handler {handler}")

    def meters(self):
        return {"shims": self.shims.cpu_ns(),
                "shims_self": sum(cpu_time.threads_cpu_ns(p) for p in self.shim_pids),
                "sandboxes": sum(cpu_time.cgroup_cpu_ns(d) for d in self.sandbox_cgroups),
                "containerd": cpu_time.threads_cpu_ns(self.env.containerd.proc.pid),
                "node": cpu_time.node_busy_ns()}

    def idle_window(self, seconds):
        """What the same parts use with no probe at all: the baseline under each window
        (an idle sandbox is not free, and containerd has its own timers)."""
        before = self.meters()
        time.sleep(seconds)
        after = self.meters()
        return {"cpu": {k: after[k] - before[k] for k in before}, "seconds": seconds}

    def probe_window(self, seconds, period=1.0):
        """Every pod probed every `period` s for `seconds` s (ExecSync `/bin/true`, 1 s
        timeout as a kubelet's default probe), their starts spread over the period.
        Returns {"cpu": {part: ns}, "ms": [latencies], "failures": [...], "seconds"}."""
        api, rt = self.env.cri.api, self.env.cri.runtime
        latencies, failures, lock = [], [], threading.Lock()
        t0 = time.monotonic() + 0.2
        end = t0 + seconds

        def prober(k, cid):
            t = t0 + period * k / len(self.pods)
            while t < end:
                time.sleep(max(0.0, t - time.monotonic()))
                s = time.monotonic()
                try:
                    r = rt.ExecSync(api.ExecSyncRequest(container_id=cid, cmd=["/bin/true"],
                                                        timeout=1), timeout=10)
                    err = None if r.exit_code == 0 else f"exit {r.exit_code}"
                except Exception as e:  # noqa: BLE001 - a failed probe is a result
                    err = (f"{cid[:12]} at {time.strftime('%H:%M:%S')} after "
                           f"{time.monotonic() - s:.1f} s: "
                           f"{getattr(e, 'details', lambda: str(e))() or e}")[:300]
                with lock:
                    (failures.append(err) if err else
                     latencies.append(round((time.monotonic() - s) * 1000, 2)))
                t += period
                while t < time.monotonic():  # a late probe skips, as the kubelet's ticker
                    t += period

        threads = [threading.Thread(target=prober, args=(k, cids[0]))
                   for k, (_, cids) in enumerate(self.pods)]
        before = self.meters()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        after = self.meters()
        wall = time.monotonic() - t0
        return {"cpu": {k: after[k] - before[k] for k in before}, "ms": latencies,
                "failures": failures, "seconds": round(wall, 2)}

    def close(self, parallel):
        parallel_map(lambda pc: remove_pod(*pc), self.pods, parallel)
        self.shims.remove()


def parallel_map(fn, items, parallel):
    """fn over items in `parallel` threads; the first exception is raised after all ran."""
    items, errors = list(items), []

    def worker():
        while True:
            try:
                item = items.pop()
            except IndexError:
                return
            try:
                fn(item)
            except Exception as e:  # noqa: BLE001
                errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
