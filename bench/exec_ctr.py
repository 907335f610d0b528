"""The ctr side of bench/exec_paths.py: `ctr task exec /bin/true` on the two exec paths and
bare `runsc exec`, timed and CPU-counted exec by exec, and the host processes 20 running
execs leave.

A path is one `sleep 1000` container started with its own shim TOML (ctr's
--runtime-config-path reaches the shim as the runtime options' ConfigPath, per container):
the default one (execs through the sandbox's control socket) or one with
`direct_exec = false` (a `runsc exec` per exec). Each container has a shim of its own,
so both run side by side in one containerd.
"""

import os
import tempfile
import time

import cpu_time
import harness
import run  # bench/run.py: /proc readers, the bare runsc worker

EXEC_RUNTIME = harness.RUNSC_RUNTIME


def spawn_ctr(cd, ns, *args, timeout=60):
    """ctr spawned directly (no `timeout` wrapper, as run.py's run row does: the wrapper's
    own exec costs ~10 ms), reaped with wait4 for its CPU. Returns (exit code, wall
    seconds, ctr's CPU ns, stderr tail)."""
    argv = [harness.STACK.ctr, "-a", cd.address, "-n", ns, *map(str, args)]
    with tempfile.TemporaryFile() as err:
        null = os.open(os.devnull, os.O_RDWR)
        actions = [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1),
                   (os.POSIX_SPAWN_DUP2, err.fileno(), 2)]
        t0 = time.monotonic()
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
        os.close(null)
        deadline = t0 + timeout
        while True:  # wait4 with a deadline: a hung ctr must not hang the bench
            got, status, usage = os.wait4(pid, os.WNOHANG)
            if got:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                got, status, usage = os.wait4(pid, 0)
                break
            time.sleep(0.0005)
        wall = time.monotonic() - t0
        err.seek(0)
        tail = err.read().decode(errors="replace")[-300:]
    cpu_ns = int((usage.ru_utime + usage.ru_stime) * 1e9)
    return os.waitstatus_to_exitcode(status), wall, cpu_ns, tail


class ExecPath:
    """One container and its shim, on one exec path, with its CPU meters."""

    def __init__(self, cd, key, label, toml, ns):
        self.cd, self.key, self.label, self.toml, self.ns = cd, key, label, toml, ns
        self.cid = f"x-{key}"
        self.seq = 0

    def start(self, rootfs):
        self.cd.track(self.ns, self.cid)
        code, _, _, err = spawn_ctr(
            self.cd, self.ns, "run", "--runtime", EXEC_RUNTIME, "--runtime-config-path",
            self.toml, "-d", *(f"--env={e}" for e in harness.DEFAULT_ENV), "--rootfs", rootfs,
            self.cid, "sleep", "1000", timeout=120)
        if code != 0:
            raise RuntimeError(f"ctr run -d {self.cid}: exit {code}: {err}")
        shims = [s for s in self.machinery() if s["id"] == self.cid]
        if len(shims) != 1:
            raise RuntimeError(f"{self.cid}: {len(shims)} shims found")
        self.shim_pid = shims[0]["pid"]
        self.sandbox_pid = run.task_pids(self.cd, self.ns)[self.cid]
        self.sandbox_cgroup = cpu_time.cgroup_of(self.sandbox_pid)
        # From here on the shim and every child it starts count in a cgroup of their own.
        self.shim_cgroup = cpu_time.CpuCgroup(f"shimcpu-{self.key}-{self.cd.token}")
        self.shim_cgroup.add(self.shim_pid)

    def machinery(self):
        rt = run.Runtime(self.key, self.label, EXEC_RUNTIME, self.cd.shim)
        return run.shim_machinery(self.cd, rt, self.ns)

    def meters(self):
        """{part: CPU ns so far}; per exec the bench takes the difference."""
        return {"shim": self.shim_cgroup.cpu_ns(),
                "shim_self": cpu_time.threads_cpu_ns(self.shim_pid),
                "sandbox": cpu_time.cgroup_cpu_ns(self.sandbox_cgroup),
                "containerd": cpu_time.threads_cpu_ns(self.cd.proc.pid)}

    def exec_once(self, *cmd, detach=False):
        """(ok, wall s, {part: CPU ns}, error) of one `ctr task exec`."""
        self.seq += 1
        before = self.meters()
        code, wall, ctr_ns, err = spawn_ctr(
            self.cd, self.ns, "task", "exec", *(["-d"] if detach else []),
            "--exec-id", f"e{self.seq}", self.cid, *cmd)
        after = self.meters()
        cpu = {k: after[k] - before[k] for k in before} | {"ctr": ctr_ns}
        return code == 0, wall, cpu, err

    def close(self):
        self.cd.ctr("task", "rm", "-f", self.cid, ns=self.ns, timeout=60)
        self.cd.ctr("container", "rm", self.cid, ns=self.ns, timeout=60)
        self.shim_cgroup.remove()


class BareExec:
    """Bare `runsc exec ID /bin/true` against a bare sandbox running `sleep 1000`, through
    run.py's worker (a child subreaper that reaps every runsc)."""

    key, label = "bare", "bare `runsc exec`"

    def __init__(self, cd, rootfs, workdir, spec):
        self.worker = run.BareClient(rootfs, workdir / "bare", "reap", 1, spec)
        self.cid = self.worker.call("exec_start")["id"]
        pid = self.worker.proc.pid
        # The bundle's cgroupsPath (run.py's BareRunsc._prepare) holds sandbox and gofer.
        self.sandbox_cgroup = cpu_time.hierarchy() / f"shimbench-bare-{pid}" / self.cid
        self.runsc_cgroup = cpu_time.CpuCgroup(f"barecpu-{cd.token}")
        self.runsc_cgroup.add(pid)

    def meters(self):
        # The worker's cgroup holds the worker itself and the runsc it spawns: its own
        # threads are taken out.
        pid = self.worker.proc.pid
        return {"runsc exec": self.runsc_cgroup.cpu_ns() - cpu_time.threads_cpu_ns(pid),
                "sandbox": cpu_time.cgroup_cpu_ns(self.sandbox_cgroup)}

    def exec_once(self):
        before = self.meters()
        r = self.worker.call("exec")
        after = self.meters()
        if "error" in r:
            return False, 0.0, {}, r["error"]
        return True, r["ms"] / 1000.0, {k: after[k] - before[k] for k in before}, ""

    def close(self):
        try:
            self.worker.call("exec_stop")
        finally:
            self.worker.close()
            self.runsc_cgroup.remove()


def exec_latency(paths, bare, n, log):
    """n rounds of one `/bin/true` exec per path and one bare, the order rotating each round
    so that no path always follows another. Returns {key: {"ms": [...], "cpu": {part:
    [ns...]}, "failures": [...]}}."""
    sides = [*paths, bare]
    out = {s.key: {"label": s.label, "ms": [], "cpu": {}, "failures": []} for s in sides}
    for s in sides:  # one warm-up each, not counted
        s.exec_once("/bin/true") if s is not bare else s.exec_once()
    ticks0 = {p.key: cpu_time.ticks(p.shim_pid) for p in paths}
    for i in range(n):
        for s in sides[i % len(sides):] + sides[:i % len(sides)]:
            ok, wall, cpu, err = s.exec_once("/bin/true") if s is not bare else s.exec_once()
            res = out[s.key]
            if not ok:
                res["failures"].append(err.strip())
                continue
            res["ms"].append(round(wall * 1000, 2))
            for part, ns in cpu.items():
                res["cpu"].setdefault(part, []).append(ns)
        if (i + 1) % 10 == 0 or i + 1 == n:
            log(f"exec latency: {i + 1}/{n} rounds")
    for p in paths:  # the shim's own ticks and its reaped children's, as a cross-check
        t1 = cpu_time.ticks(p.shim_pid)
        out[p.key]["shim_ticks"] = {"self": t1[0] - ticks0[p.key][0],
                                    "reaped_children": t1[1] - ticks0[p.key][1],
                                    "clk_tck": cpu_time.CLK_TCK}
    return out


def running_execs(path, count, settle, log):
    """`count` execs of `sleep 60` left running in path's container (ctr task exec -d):
    the host processes below the shim other than the sandbox and gofer, then the execs
    killed again."""
    first = path.seq + 1
    failures = []
    for _ in range(count):
        ok, _, _, err = path.exec_once("sleep", "60", detach=True)
        if not ok:
            failures.append(err.strip())
    time.sleep(settle)
    procs = run.processes()
    shim = next(s for s in path.machinery() if s["id"] == path.cid)
    helpers = []
    for h in shim["helpers"]:
        mem = run.smaps_rollup(h["pid"])
        cg = cpu_time.cgroup_of(h["pid"])
        helpers.append({**h, "rss_kb": mem["rss_kb"], "pss_kb": mem["pss_kb"],
                        "cgroup": str(cg.relative_to(cpu_time.hierarchy())) if cg else "?"})
    workload = [pid for pid, p in procs.items()
                if (p["cmdline"] or [""])[0] in ("runsc-sandbox", "runsc-gofer")
                and f"/{path.cid}" in " ".join(p["cmdline"])]
    log(f"{count} running execs, {path.label}: {len(helpers)} helper processes")
    for k in range(first, first + count):
        path.cd.ctr("task", "kill", "-s", "KILL", "--exec-id", f"e{k}", path.cid, ns=path.ns)
    gone = run_until(lambda: not next(s for s in path.machinery()
                                      if s["id"] == path.cid)["helpers"], 20)
    return {"execs": count, "failures": failures, "helpers": len(helpers),
            "helper_rss_kb": sum(h["rss_kb"] for h in helpers),
            "helper_pss_kb": sum(h["pss_kb"] for h in helpers),
            "helper_kinds": sorted({" ".join(h["cmdline"].split()[:1]) for h in helpers}),
            "helper_cgroups": sorted({h["cgroup"] for h in helpers}),
            "helpers_sample": helpers[:3], "sandbox_and_gofer_seen": len(workload),
            "helpers_gone_after_kill": gone}


def run_until(pred, timeout, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())
