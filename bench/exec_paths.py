#!/usr/bin/python3
"""Exec and Stats numbers (issue 13): the shim's two exec paths side by side in one run.

    SHIM_BINARY=build-bench/src/shim/containerd-shim-runsc-v1 \\
        /usr/bin/python3 bench/exec_paths.py [--quick] [--only PART[,PART]]

The paths: *direct* (the default: `containerManager.ExecuteAsync` on the sandbox's control
socket, no host process per exec), *runsc exec* (the shim's TOML says `direct_exec =
false`: one `runsc exec` per exec, the shim reaps it), and, outside containerd, *bare*
`runsc exec ID /bin/true` into a bare sandbox (run.py's bare worker). Parts:

  latency    `ctr task exec /bin/true` per path, rounds interleaved, and the CPU each exec
             cost, part by part (shim + helpers, sandbox, containerd, ctr)
  running    host processes while 20 `sleep 60` execs run in one container, per path
  stats      Task.Stats straight to the shim (single-container sandbox: host cgroup; app
             container in a two-container pod: the sandbox's figures), CRI ContainerStats,
             `ctr task metrics`
  probes     pods on each path, every one probed by ExecSync `/bin/true` every second; the
             CPU of the shims (+ helpers), the sandboxes, containerd and the node

Everything runs against one private CRI containerd (tests/cri/cri_env.py, plus a handler
`runsc-exec` with direct_exec = false); the ctr containers live in a namespace of their own
beside the pods. Writes bench/results/exec.md and exec.json (rows: bench/README.md,
"Exec paths and Stats"). STACK=trixie|sid picks the containerd and runsc (README "Stacks").
"""

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for _p in (REPO / "tests" / "integration", REPO / "tests" / "cri", BENCH):
    sys.path.insert(0, str(_p))
import cpu_time  # noqa: E402
import exec_cri  # noqa: E402
import exec_ctr  # noqa: E402
import exec_report  # noqa: E402
import harness  # noqa: E402
import images  # noqa: E402
import run  # noqa: E402
import stats_calls  # noqa: E402
from pods import _remove_everything  # noqa: E402
from test_pods import wait_for  # noqa: E402

PARTS = ("latency", "running", "stats", "probes")
DEFAULT_SHIM = REPO / "build-bench/src/shim/containerd-shim-runsc-v1"

# How much of each part a run does. Measured on 2 shared cores: the full run takes under
# 3 minutes (2 of them the probe part), --quick about 1.
SIZES = {
    "full": {"execs": 100, "running": 20, "stats": 100, "ctr_metrics": 10, "probe_pods": 20,
             "windows": 2, "window_s": 30},
    "quick": {"execs": 30, "running": 20, "stats": 30, "ctr_metrics": 3, "probe_pods": 5,
              "windows": 2, "window_s": 10},
}
PARALLEL = 4  # threads starting and removing pods, as pods.py


def log(msg):
    print(f"[exec-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class ExecBench:
    def __init__(self, a, env, rootfs, tmp, size):
        self.a, self.env, self.rootfs, self.tmp, self.size = a, env, rootfs, tmp, size
        self.cd = env.containerd
        self.cd.rootfs = rootfs
        self.ns = self.cd.new_namespace("exec")
        runsc_toml = harness.write_shim_toml(self.cd.dir / "shim-runsc-exec.toml",
                                             top="direct_exec = false")
        self.paths = [
            exec_ctr.ExecPath(self.cd, "direct", "direct (control socket)", self.cd.shim_toml,
                              self.ns),
            exec_ctr.ExecPath(self.cd, "runsc", "`runsc exec` (direct_exec = false)",
                              runsc_toml, self.ns)]
        self.bare = None
        for p in self.paths:
            p.start(rootfs)

    def latency(self):
        if self.bare is None:
            ours = run.Runtime("ours", "ours", harness.RUNSC_RUNTIME, self.cd.shim)
            spec = run.capture_ctr_spec(self.cd, ours, self.tmp / "ctr-config.json")
            self.bare = exec_ctr.BareExec(self.cd, self.rootfs, self.tmp, spec)
        return exec_ctr.exec_latency(self.paths, self.bare, self.size["execs"], log)

    def running(self):
        return {p.key: {"label": p.label,
                        **exec_ctr.running_execs(p, self.size["running"], 1.0, log)}
                for p in self.paths}

    def stats(self):
        pod, cids = exec_cri.start_pod(self.env, "stats", "runsc", ["app0", "app1"])
        direct = self.paths[0]
        callers = {
            "shim_single": stats_calls.ShimStats(
                harness.shim_socket_path(self.cd.address, self.ns, direct.cid), direct.cid),
            "shim_pod_app": stats_calls.ShimStats(
                harness.shim_socket_path(self.env.address, images.CRI_NAMESPACE, pod.id),
                cids[0]),
            "cri_pod_app": stats_calls.CriContainerStats(self.env.cri.channel, cids[0]),
        }
        try:
            out = stats_calls.interleaved(callers, self.size["stats"])
            metrics = stats_calls.CtrMetrics(exec_ctr.spawn_ctr, self.cd, self.ns, direct.cid)
            out |= {"ctr_metrics_single": stats_calls.interleaved(
                {"m": metrics}, self.size["ctr_metrics"])["m"]}
        finally:
            for c in callers.values():
                getattr(c, "close", lambda: None)()
            exec_cri.remove_pod(pod, cids)
        log("stats: done")
        return out

    def probes(self):
        groups = []
        try:
            for handler in ("runsc", exec_cri.RUNSC_EXEC_HANDLER):
                groups.append(exec_cri.ProbedPods(self.env, handler, self.size["probe_pods"],
                                                  PARALLEL, log))
            time.sleep(2)  # the pods settle before the first window
            out = {g.handler: {"label": g.label, "pods": len(g.pods), "windows": []}
                   for g in groups}
            idle_s = self.size["window_s"] / 3
            log(f"probes: {idle_s:.0f} s without probes, the baseline")
            for g in groups:
                out[g.handler]["idle"] = g.idle_window(idle_s)
            for w in range(self.size["windows"]):
                order = groups if w % 2 == 0 else groups[::-1]
                for g in order:
                    log(f"probes: window {w + 1}/{self.size['windows']}, {g.label}, "
                        f"{self.size['window_s']} s")
                    out[g.handler]["windows"].append(
                        g.probe_window(self.size["window_s"], period=self.a.probe_period))
            return out
        finally:
            for g in groups:
                g.close(PARALLEL)

    def close(self):
        if self.bare:
            self.bare.close()
        for p in self.paths:
            p.close()


def failed_anything(results):
    """True when any exec, probe or Stats call of the run failed."""
    def walk(x):
        if isinstance(x, dict):
            return bool(x.get("failures")) or any(walk(v) for v in x.values())
        if isinstance(x, list):
            return any(walk(v) for v in x)
        return False
    return walk(results)


def versions(shim):
    out = run.output_line
    return {"shim_version": out([str(shim), "-v"], 3),
            "git": out(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
            "kernel": platform.release(), "cpus": os.cpu_count(),
            "stack": harness.STACK.name,
            "runsc": out([harness.STACK.runsc, "--version"]),
            "containerd": out([harness.STACK.containerd, "--version"]),
            "cgroup": "v2" if cpu_time.V2 else "v1"}


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer samples, 5 probed pods "
                   "per path and 2 × 10 s of probes each: about a minute")
    p.add_argument("--only", action="append", default=[], metavar="PART",
                   help=f"some parts only ({', '.join(PARTS)}); repeat or comma-separate")
    p.add_argument("--results", type=Path, default=BENCH / "results", help="output folder")
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--probe-period", type=float, default=1.0, metavar="S",
                   help="seconds between two probes of a pod (default 1, a kubelet's)")
    p.add_argument("--render", type=Path, metavar="JSON",
                   help="only rewrite the markdown beside an exec.json from it")
    p.add_argument("--artifacts", type=Path, default=Path("/tmp/exec-bench-artifacts"),
                   help="where containerd's log and the bundles go when a call failed")
    a = p.parse_args(argv)
    only = [x for o in a.only for x in o.split(",") if x]
    bad = [x for x in only if x not in PARTS]
    if bad:
        p.error(f"unknown part(s) {bad}: choose from {', '.join(PARTS)}")
    a.parts = [x for x in PARTS if not only or x in only]
    return a


def main(argv):
    a = parse_args(argv)
    if a.render:
        data = json.loads(a.render.read_text())
        a.render.with_suffix(".md").write_text(
            exec_report.markdown(data["results"], data["meta"]) + "\n")
        return 0
    shim = Path(os.environ.get("SHIM_BINARY") or DEFAULT_SHIM).resolve()
    if not shim.is_file():
        sys.exit(f"shim binary not found: {shim} (build it, or set SHIM_BINARY)")
    size = SIZES["quick" if a.quick else "full"]
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "quick": a.quick, "parts": a.parts, "size": size, "shim": str(shim),
            "probe_period_s": a.probe_period,
            "build_type": os.environ.get("BENCH_BUILD_TYPE", "build type not given"),
            **versions(shim), "loadavg_start": run.loadavg()}
    t_start = time.monotonic()
    results = {}
    with tempfile.TemporaryDirectory(prefix="execbench-") as tmp:
        tmp = Path(tmp)
        archives = images.build_images(tmp / "images").values()
        rootfs = harness.build_busybox_rootfs(tmp / "rootfs")
        env = exec_cri.ExecCriContainerd(archives, shim=shim)
        env.start()
        bench = None
        try:
            bench = ExecBench(a, env, rootfs, tmp, size)
            for part in a.parts:
                log(f"part {part}")
                t0 = time.monotonic()
                results[part] = getattr(bench, part)()
                log(f"part {part} done in {time.monotonic() - t0:.1f} s")
        finally:
            try:
                if failed_anything(results) and a.artifacts:
                    log(f"a call failed: containerd's log and the bundles into "
                        f"{env.save_artifacts(a.artifacts)}")
                if bench:
                    bench.close()
                _remove_everything(env)
                left = wait_for(lambda: not env.leftovers(), 15) or env.leftovers()
                meta["leftovers"] = [] if left is True else left
            finally:
                env.stop()
        harness.unmount_all(tmp)
    meta["loadavg_end"] = run.loadavg()
    meta["wall_s"] = round(time.monotonic() - t_start, 1)

    md = exec_report.markdown(results, meta)
    print(md)
    if not a.no_write:
        a.results.mkdir(parents=True, exist_ok=True)
        (a.results / "exec.md").write_text(md + "\n")
        (a.results / "exec.json").write_text(
            json.dumps({"meta": meta, "results": results}, indent=1) + "\n")
        log(f"wrote {a.results / 'exec.md'} and exec.json")
    return 1 if meta["leftovers"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
