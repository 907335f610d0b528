#!/usr/bin/python3
"""Scale (issue 7): N pods through containerd's CRI plugin, our shim against Debian's Go
runc shim, each in a private CRI containerd of its own (tests/cri/cri_env.py).

Per runtime (handler `runsc`: our shim, host network, `network = "none"`; handler
`runc`: io.containerd.runc.v2):

1. start N pods, each one app container `sleep 100000` (busybox image), with
   --parallel worker threads (each does RunPodSandbox, CreateContainer, StartContainer
   for one pod at a time); the wall time runs from the first RunPodSandbox until
   ListContainers shows all N app containers CONTAINER_RUNNING;
2. after --settle seconds, the memory of what each pod costs outside its workload, from
   /proc/PID/smaps_rollup: its shim (a process whose exe is the shim binary and whose
   command line names this containerd's address), the shim's `runsc wait` children (ours
   waits through the sandbox's control socket instead, unless runsc has none: counted so
   that a regression shows), any other helper (a shim descendant that is neither
   a `runsc wait`, nor runsc-sandbox / runsc-gofer, nor a pid the CRI reports for the pod
   or its container, nor below one of those); the workload (sandbox + gofer + stubs;
   runc: pause + sleep) is summed apart, for context; also MemAvailable before and after;
3. stop and remove all N (StopContainer with timeout 0, i.e. SIGKILL at once on both
   runtimes, RemoveContainer, StopPodSandbox, RemovePodSandbox), same workers; the wall
   time runs until the last RemovePodSandbox returns; then tests/cri's leftovers check
   must come back empty (it waits up to 10 s for shims to exit: that wait is timed apart).

Prints a markdown table; writes bench/results/pods.md and pods.json.

    SHIM_BINARY=build-pods/src/shim/containerd-shim-runsc-v1 \\
        /usr/bin/python3 bench/pods.py [--pods 50] [--parallel 4] [--runtimes runsc,runc]

STACK=trixie|sid (or CONTAINERD_DIR, RUNSC) picks the containerd and runsc, as for the
tests (README "Stacks"). As root, with the system Python (grpc, protobuf and pytest are
Debian's). Reuses the
CRI harness (tests/cri: CriContainerd, the images, test_pods.Pod, assert_clean,
conftest's best-effort cleanup) and bench/run.py's /proc readers.
"""

import argparse
import concurrent.futures
import datetime
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for _p in (REPO / "tests" / "integration", REPO / "tests" / "cri", BENCH):
    sys.path.insert(0, str(_p))
import cri_env  # noqa: E402
import harness  # noqa: E402
import images  # noqa: E402
from run import loadavg, log, output_line, p90, processes, read, smaps_rollup  # noqa: E402
from test_pods import Pod, assert_clean, wait_for  # noqa: E402


def _load(name, path):
    """Import a file by path: tests/cri/conftest.py, not tests/integration's."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_remove_everything = _load("cri_conftest", REPO / "tests/cri/conftest.py")._remove_everything

DEFAULT_SHIM = REPO / "build-pods/src/shim/containerd-shim-runsc-v1"
GO_RUNC_SHIM = "containerd-shim-runc-v2"
APP = ["sleep", "100000"]
LABEL = {"runsc": "runsc (our shim)", "runc": "runc (Go shim)"}
MEM_KEYS = ("rss_kb", "pss_kb", "private_kb")


# ------------------------------------------------------------------------- helpers

def mem_available_kb():
    for line in read("/proc/meminfo").splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


def secs_summary(xs):
    """median / p90 / max of a list of seconds, in ms."""
    if not xs:
        return {"n": 0}
    ms = [round(x * 1000, 1) for x in xs]
    return {"n": len(ms), "median": round(statistics.median(ms), 1), "p90": p90(ms),
            "max": max(ms)}


def add_mem(total, pid):
    m = smaps_rollup(pid)
    for k in MEM_KEYS:
        total[k] += m[k]
    return m


def is_runsc_wait(p):
    """A `runsc [flags] wait ID` process."""
    argv = p["cmdline"]
    return (bool(argv) and os.path.basename(p["exe"] or argv[0]) == "runsc"
            and "wait" in argv[1:])


# ---------------------------------------------------------------------- the phases

def start_pods(env, runtime, n, parallel):
    """N pods, one `sleep 100000` container each; returns (pods, wall seconds, failures)."""
    api = env.cri.api

    def one(i):
        steps = []
        pod = Pod(env, f"scale-{i:03d}", runtime, "host", steps)
        pod.run()
        cid = pod.create("app", APP)
        pod.start(cid, "app")
        return {"i": i, "pod": pod, "cid": cid, "steps": steps}

    pods, failures = [], []
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
        for f in concurrent.futures.as_completed([ex.submit(one, i) for i in range(n)]):
            try:
                pods.append(f.result())
            except Exception as e:  # noqa: BLE001 - reported, the rest goes on
                failures.append(str(e)[:2000])
    returned = time.monotonic() - t0

    def all_running():
        ctrs = env.cri.runtime.ListContainers(api.ListContainersRequest(),
                                              timeout=30).containers
        running = [c for c in ctrs if api.ContainerState.Name(c.state) == "CONTAINER_RUNNING"]
        return len(running) == len(pods) and len(running)

    running = wait_for(all_running, 60, interval=0.02) if pods else 0
    wall = time.monotonic() - t0
    pods.sort(key=lambda p: p["i"])
    return pods, {"wall_s": round(wall, 3), "calls_returned_s": round(returned, 3),
                  "running": running or 0}, failures


def measure(env, runtime, shim_exe, pods):
    """Per-pod memory of the shim, its `runsc wait` helpers, other helpers, and (apart)
    the workload; checks one shim per pod."""
    api = env.cri.api
    workload_pids = {}  # pid -> pod id: what the CRI reports (sandbox task, container)
    for p in pods:
        pod = p["pod"]
        workload_pids[env.pod_info(pod.id)["pid"]] = pod.id
        r = env.cri.runtime.ContainerStatus(api.ContainerStatusRequest(
            container_id=p["cid"], verbose=True), timeout=30)
        workload_pids[json.loads(r.info.get("info", "{}")).get("pid", -1)] = pod.id

    procs = processes()
    children = {}
    for pid, pr in procs.items():
        children.setdefault(pr["ppid"], []).append(pid)
    pod_ids = {p["pod"].id for p in pods}
    shims = []
    for pid, pr in procs.items():
        if pr["exe"] != shim_exe or env.address not in " ".join(pr["cmdline"]):
            continue
        argv = pr["cmdline"]
        sid = argv[argv.index("-id") + 1] if "-id" in argv[:-1] else "?"
        s = {"pid": pid, "id": sid, **smaps_rollup(pid),
             "waiters": [], "helpers": [], "workload": {"procs": 0, **dict.fromkeys(MEM_KEYS, 0)},
             "waiters_mem": dict.fromkeys(MEM_KEYS, 0),
             "helpers_mem": dict.fromkeys(MEM_KEYS, 0)}
        stack = list(children.get(pid, []))
        while stack:
            c = stack.pop()
            cp = procs[c]
            desc = {"pid": c, "comm": cp["comm"], "cmdline": " ".join(cp["cmdline"])[:600]}
            if is_runsc_wait(cp):
                desc.update(add_mem(s["waiters_mem"], c))
                s["waiters"].append(desc)
                continue  # (a waiter has no children; if it had, they'd be its cost)
            if c in workload_pids or (cp["cmdline"] or [""])[0] in ("runsc-sandbox",
                                                                      "runsc-gofer"):
                sub = [c]
                while sub:  # the whole workload subtree (ptrace stubs are the sandbox's)
                    w = sub.pop()
                    add_mem(s["workload"], w)
                    s["workload"]["procs"] += 1
                    sub += children.get(w, [])
                continue
            desc.update(add_mem(s["helpers_mem"], c))
            s["helpers"].append(desc)
            stack += children.get(c, [])
        shims.append(s)
    shims.sort(key=lambda s: s["id"])

    n = len(pods)
    per_pod = {}
    for s in shims:
        per_pod.setdefault(s["id"], []).append(s["pid"])

    def tot(f):
        return sum(f(s) for s in shims)

    def mean(total):
        return round(total / n) if n else 0

    out = {
        "pods": n,
        "shims": len(shims),
        "shims_matching_a_pod": sum(1 for s in shims if s["id"] in pod_ids),
        "pods_with_more_than_one_shim": sorted(k for k, v in per_pod.items() if len(v) > 1),
        "pods_without_shim": sorted(pod_ids - set(per_pod)),
        "waiters": tot(lambda s: len(s["waiters"])),
        "helpers": tot(lambda s: len(s["helpers"])),
        "workload_procs": tot(lambda s: s["workload"]["procs"]),
    }
    for part, get in (("shim", lambda s, k: s[k]),
                      ("waiters", lambda s, k: s["waiters_mem"][k]),
                      ("helpers", lambda s, k: s["helpers_mem"][k]),
                      ("machinery", lambda s, k: s[k] + s["waiters_mem"][k]
                       + s["helpers_mem"][k]),
                      ("workload", lambda s, k: s["workload"][k])):
        for k in MEM_KEYS:
            total = tot(lambda s: get(s, k))
            out[f"{part}_{k}_total"] = total
            out[f"{part}_{k}_per_pod"] = mean(total)
    waiter_list = [w for s in shims for w in s["waiters"]]
    if waiter_list:
        out["rss_kb_per_waiter"] = round(statistics.mean(w["rss_kb"] for w in waiter_list))
        out["pss_kb_per_waiter"] = round(statistics.mean(w["pss_kb"] for w in waiter_list))
        out["private_kb_per_waiter"] = round(statistics.mean(w["private_kb"]
                                                             for w in waiter_list))
    out["per_shim"] = [{k: s[k] for k in ("pid", "id", *MEM_KEYS)}
                       | {"waiters": s["waiters"], "helpers": s["helpers"],
                          "workload": s["workload"]} for s in shims]
    return out


def teardown(env, pods, parallel):
    """Stop and remove every pod, the kubelet's order; returns (wall s, failures)."""
    def one(p):
        pod, cid = p["pod"], p["cid"]
        steps = []
        pod.steps = steps
        pod.stop_container(cid, "app", timeout=0)
        pod.remove_container(cid, "app")
        pod.stop()
        pod.remove()
        p["down_steps"] = steps

    failures = []
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
        for f in concurrent.futures.as_completed([ex.submit(one, p) for p in pods]):
            try:
                f.result()
            except Exception as e:  # noqa: BLE001
                failures.append(str(e)[:2000])
    return round(time.monotonic() - t0, 3), failures


def step_summaries(pods, key):
    by = {}
    for p in pods:
        for name, s in p.get(key, []):
            by.setdefault(name.replace(" app", ""), []).append(s)
    return {name: secs_summary(xs) for name, xs in by.items()}


def bench_runtime(runtime, archives, shim, n, parallel, settle):
    log(f"{runtime}: starting a CRI containerd")
    shim_exe = (str(Path(shim).resolve()) if runtime == "runsc"
                else str(Path(harness.STACK.runc_shim()).resolve()))
    res = {"runtime": runtime, "handler": runtime, "pods_wanted": n, "parallel": parallel,
           "shim_exe": shim_exe, "loadavg_start": loadavg()}
    env = cri_env.CriContainerd(archives, shim=shim)
    env.start()
    try:
        avail0 = mem_available_kb()
        log(f"{runtime}: starting {n} pods, {parallel} at a time")
        pods, up, up_failures = start_pods(env, runtime, n, parallel)
        res.update(up=up, start_failures=up_failures, started=len(pods),
                   start_steps=step_summaries(pods, "steps"))
        log(f"{runtime}: {len(pods)} pods up, {up['running']} running, in {up['wall_s']} s"
            + (f"; {len(up_failures)} failed: {up_failures[0][:300]}" if up_failures else ""))
        time.sleep(settle)
        res["mem_available_drop_kb_per_pod"] = (
            round((avail0 - mem_available_kb()) / len(pods)) if pods else 0)
        res["memory"] = measure(env, runtime, shim_exe, pods)
        m = res["memory"]
        log(f"{runtime}: {m['shims']} shims, {m['waiters']} runsc waits, {m['helpers']} "
            f"other helpers; shim RSS/PSS per pod {m['shim_rss_kb_per_pod']}/"
            f"{m['shim_pss_kb_per_pod']} kB")
        log(f"{runtime}: stopping and removing {len(pods)} pods")
        res["down_wall_s"], res["down_failures"] = teardown(env, pods, parallel)
        res["down_steps"] = step_summaries(pods, "down_steps")
        log(f"{runtime}: down in {res['down_wall_s']} s")
        t0 = time.monotonic()
        try:
            assert_clean(env)
            res["leftovers"] = []
        except AssertionError as e:
            res["leftovers"] = env.leftovers() or [str(e)[:2000]]
        res["clean_after_s"] = round(time.monotonic() - t0, 2)
        log(f"{runtime}: leftovers {res['leftovers'] or 'none'} "
            f"(checked for {res['clean_after_s']} s)")
    finally:
        try:
            _remove_everything(env)
        finally:
            env.stop()
    res["loadavg_end"] = loadavg()
    return res


# -------------------------------------------------------------------------- report

def fmt_kb(kb):
    return f"{kb / 1024:.2f} MB" if kb >= 1000 else f"{kb} kB"


def fmt_step(s):
    return f"{s['median']:.0f} ms ({s['p90']:.0f})" if s.get("n") else "-"


def table(results):
    rts = [r for r in results if r]
    cols = [LABEL[r["runtime"]] for r in rts]
    lines = ["| | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]

    def row(name, f):
        lines.append(f"| {name} | " + " | ".join(f(r) for r in rts) + " |")

    def mem(part, k, what):
        return lambda r: fmt_kb(r["memory"][f"{part}_{k}_{what}"])

    row("pods started (one `sleep 100000` container each)",
        lambda r: f"{r['started']} of {r['pods_wanted']}, {r['parallel']} in parallel")
    row("**wall time until all RUNNING**", lambda r: f"**{r['up']['wall_s']:.1f} s**")
    for step in ("RunPodSandbox", "CreateContainer", "StartContainer"):
        row(f"{step} per pod, median (p90)", lambda r, s=step: fmt_step(r["start_steps"].get(s, {})))
    row("shim processes (must equal pods)", lambda r: f"{r['memory']['shims']}")
    row("**shim RSS per pod** (mean) / total",
        lambda r: f"**{fmt_kb(r['memory']['shim_rss_kb_per_pod'])}** / "
                  f"{fmt_kb(r['memory']['shim_rss_kb_total'])}")
    row("**shim PSS per pod** (mean) / total",
        lambda r: f"**{fmt_kb(r['memory']['shim_pss_kb_per_pod'])}** / "
                  f"{fmt_kb(r['memory']['shim_pss_kb_total'])}")
    row("`runsc wait` helpers (count)", lambda r: f"{r['memory']['waiters']}")
    row("`runsc wait` RSS per pod / total",
        lambda r: f"{mem('waiters', 'rss_kb', 'per_pod')(r)} / {mem('waiters', 'rss_kb', 'total')(r)}")
    row("`runsc wait` PSS per pod / total",
        lambda r: f"{mem('waiters', 'pss_kb', 'per_pod')(r)} / {mem('waiters', 'pss_kb', 'total')(r)}")
    row("`runsc wait` private (Private_Clean + Private_Dirty) per pod",
        lambda r: mem("waiters", "private_kb", "per_pod")(r))
    row("other helper processes (count)", lambda r: f"{r['memory']['helpers']}")
    row("**shim + helpers RSS per pod** / total",
        lambda r: f"**{mem('machinery', 'rss_kb', 'per_pod')(r)}** / "
                  f"{mem('machinery', 'rss_kb', 'total')(r)}")
    row("**shim + helpers PSS per pod** / total",
        lambda r: f"**{mem('machinery', 'pss_kb', 'per_pod')(r)}** / "
                  f"{mem('machinery', 'pss_kb', 'total')(r)}")
    row("shim + helpers private per pod (what no other process shares)",
        lambda r: mem("machinery", "private_kb", "per_pod")(r))
    row("workload per pod, RSS / PSS (context: sandbox+gofer+stubs; runc: pause+sleep)",
        lambda r: f"{mem('workload', 'rss_kb', 'per_pod')(r)} / {mem('workload', 'pss_kb', 'per_pod')(r)}"
                  f" ({r['memory']['workload_procs']} procs)")
    row("MemAvailable drop per pod (everything: host view)",
        lambda r: fmt_kb(r["mem_available_drop_kb_per_pod"]))
    row("**wall time to stop and remove all**", lambda r: f"**{r['down_wall_s']:.1f} s**")
    for step in ("StopContainer", "RemoveContainer", "StopPodSandbox", "RemovePodSandbox"):
        row(f"{step} per pod, median (p90)", lambda r, s=step: fmt_step(r["down_steps"].get(s, {})))
    row("left behind after removal",
        lambda r: (f"nothing (clean {r['clean_after_s']:.1f} s after the last removal)"
                   if not r["leftovers"] else f"**{len(r['leftovers'])} items**"))
    row("failed CRI calls", lambda r: f"{len(r['start_failures']) + len(r['down_failures'])}")
    return "\n".join(lines)


def notes(results, meta):
    out = []
    for r in results:
        if not r:
            continue
        m = r["memory"]
        if r["runtime"] == "runsc" and m["waiters"]:
            out.append(
                f"Our shim: {m['waiters']} `runsc wait` processes for {m['pods']} app "
                f"containers, {fmt_kb(m.get('rss_kb_per_waiter', 0))} RSS / "
                f"{fmt_kb(m.get('pss_kb_per_waiter', 0))} PSS "
                f"({fmt_kb(m.get('private_kb_per_waiter', 0))} of it private) each: the waiters are "
                f"{100 * m['waiters_pss_kb_total'] / max(1, m['machinery_pss_kb_total']):.0f}% "
                f"of the machinery's PSS and "
                f"{100 * m['waiters_rss_kb_total'] / max(1, m['machinery_rss_kb_total']):.0f}% "
                f"of its RSS (the shim itself: {fmt_kb(m['shim_pss_kb_per_pod'])} PSS per pod).")
        for what in ("start_failures", "down_failures"):
            if r[what]:
                out.append(f"{LABEL[r['runtime']]}: {len(r[what])} {what.replace('_', ' ')}, "
                           f"first: {r[what][0][:400]!r}")
        if r["leftovers"]:
            out.append(f"{LABEL[r['runtime']]} left: " + "; ".join(r["leftovers"][:10]))
    out.append("Wall time up: first RunPodSandbox until ListContainers shows every app "
               "container CONTAINER_RUNNING; each worker thread runs RunPodSandbox, "
               "CreateContainer, StartContainer for one pod, then takes the next. Down: "
               "StopContainer (timeout 0: SIGKILL at once, on both runtimes; a grace period "
               "would time `sleep`'s PID-1 signal semantics, which differ: gVisor lets "
               "SIGTERM end it, Linux does not), RemoveContainer, StopPodSandbox, "
               "RemovePodSandbox, same workers, until the last returns.")
    out.append("Memory: /proc/PID/smaps_rollup, MB = 1024 kB, sampled "
               f"{meta['settle_s']} s after the last pod was up. Shim = a process whose exe is "
               "the shim binary with this containerd's address on its command line; helpers = "
               "its descendants other than the workload (pids the CRI reports for the pod and "
               "its container, runsc-sandbox / runsc-gofer, and their subtrees); `runsc wait` "
               "helpers are counted apart. Private = Private_Clean + Private_Dirty. PSS splits shared pages (the shim binary's text, "
               "libc, runsc's text) among all the processes mapping them, so per-pod PSS is "
               "what one more pod costs; RSS counts shared pages in full for each process. "
               "MemAvailable drop: /proc/meminfo before the first pod vs after the last, "
               "divided by the pods (workload, containerd's growth and page cache included; "
               "noisy).")
    out.append(f"Host: {meta['kernel']}, {meta['cpus']} CPUs, {meta['mem_total']} RAM, load "
               f"average {' '.join(meta['loadavg_start'])} at start, "
               f"{' '.join(meta['loadavg_end'])} at end (a shared host); {meta['runsc']}; "
               f"{meta['containerd']}; our shim {meta['shim_version']} (Release, "
               f"{meta['shim']}); Go shim {meta['go_runc_shim']}.")
    return out


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pods", type=int, default=50)
    p.add_argument("--parallel", type=int, default=4,
                   help="worker threads starting and removing pods (default 4)")
    p.add_argument("--settle", type=float, default=3.0,
                   help="seconds between the last pod up and the memory sample")
    p.add_argument("--runtimes", default="runsc,runc")
    p.add_argument("--results", type=Path, default=BENCH / "results")
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--note", action="append", default=[],
                   help="a line for the notes (e.g. how the shim was built)")
    return p.parse_args(argv)


def main(argv):
    a = parse_args(argv)
    runtimes = [r for r in a.runtimes.split(",") if r]
    shim = Path(os.environ.get("SHIM_BINARY") or DEFAULT_SHIM).resolve()
    if "runsc" in runtimes and not shim.is_file():
        sys.exit(f"shim binary not found: {shim} (build it, or set SHIM_BINARY)")
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "pods": a.pods, "parallel": a.parallel, "settle_s": a.settle, "shim": str(shim),
        "shim_version": output_line([str(shim), "-v"], 3),
        "git": output_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
        "kernel": platform.release(), "cpus": os.cpu_count(),
        "mem_total": f"{int(read('/proc/meminfo').split()[1]) / 1024 / 1024:.1f} GiB",
        "stack": harness.STACK.name,
        "runsc": output_line([harness.STACK.runsc, "--version"]),
        "containerd": output_line([harness.STACK.containerd, "--version"]),
        "go_runc_shim": output_line([harness.STACK.runc_shim() or GO_RUNC_SHIM, "-v"], 3),
        "loadavg_start": loadavg(), "notes": a.note,
    }
    results = []
    with tempfile.TemporaryDirectory(prefix="cri-images-") as tmp:
        archives = images.build_images(tmp).values()
        for rt in runtimes:
            results.append(bench_runtime(rt, archives, shim if rt == "runsc" else False,
                                         a.pods, a.parallel, a.settle))
    meta["loadavg_end"] = loadavg()

    tbl = table(results)
    note_lines = notes(results, meta) + a.note
    print(tbl)
    print()
    print("\n".join(f"- {n}" for n in note_lines))
    ok = all(r["started"] == a.pods and r["up"]["running"] == a.pods
             and r["memory"]["shims"] == a.pods
             and r["memory"]["shims_matching_a_pod"] == a.pods
             and not r["leftovers"] and not r["start_failures"] and not r["down_failures"]
             for r in results)
    if not a.no_write:
        a.results.mkdir(parents=True, exist_ok=True)
        rev = meta["shim_version"].partition("Revision:")[2].split()[:1] or ["?"]
        md = [f"# {a.pods} pods through the CRI ({meta['date']}, shim revision {rev[0]}, "
              f"git HEAD {meta['git']})", "",
              "`bench/pods.py`: each runtime in its own private CRI containerd "
              "(tests/cri), host-network pods, one app container `sleep 100000` per pod.",
              "", tbl, "", "## Notes", "", *[f"- {n}" for n in note_lines]]
        if not ok:
            md += ["", "**The run did not meet its checks** (pods started and running, one "
                   "shim per pod, no failed call, nothing left): see pods.json."]
        (a.results / "pods.md").write_text("\n".join(md) + "\n")
        for r in results:  # the Pod objects do not serialise
            r.pop("pods", None)
        (a.results / "pods.json").write_text(
            json.dumps({"meta": meta, "ok": ok, "runtimes": results}, indent=1) + "\n")
        log(f"wrote {a.results / 'pods.md'} and pods.json")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
