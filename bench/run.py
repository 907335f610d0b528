#!/usr/bin/python3
"""Benchmark of containerd-shim-runsc-v1 against bare runsc and Debian's Go runc shim.

Every row is measured in one run against one private containerd (the integration
harness's `Containerd`, our shim first on its PATH; the Go `containerd-shim-runc-v2`
is found on PATH behind it). Prints one markdown table, writes
bench/results/latest.md and latest.json, plus memory.dat / latency.dat for
bench/plot.gp. What each row measures and the budget: bench/README.md.

    /usr/bin/python3 bench/run.py [--quick] [--only ROW[,ROW]] [--idle-seconds S]

STACK=trixie|sid (or CONTAINERD_DIR, RUNSC) picks the containerd, ctr, Go runc shim and runsc
(bare and under our shim), as for the tests (README "Stacks").

The bare runsc baselines run in a separate worker process (this file with
--bare-worker) that is a child subreaper: `runsc create` daemonizes the sandbox and
gofer, so they become the worker's children, and the worker reaps them as the shim
does. The main process must not be a subreaper: containerd's shims would then be
reparented to it.
"""

import argparse
import ctypes
import datetime
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO / "tests" / "integration"))
import harness  # noqa: E402  (the shared private-containerd machinery)

ROWS = ("memory", "run", "exec", "stdout", "parallel", "idle")
DEFAULT_SHIM = REPO / "build-main/src/shim/containerd-shim-runsc-v1"
GO_RUNC_SHIM = "containerd-shim-runc-v2"
MEMORY_COUNTS = (1, 20)
PARALLEL = 20
STDOUT_BYTES = 512 * 1024 * 1024
CLK_TCK = os.sysconf("SC_CLK_TCK")
PR_SET_CHILD_SUBREAPER = 36
KB_PER_MB = 1024  # /proc counts in kB of 1024 bytes; the budget's "MB" is read as MiB

# The budget of the issue: (key, text). Values and verdicts are filled in by budget().
BUDGET = (
    ("rss", "RSS ≤ 2 MB per idle shim"),
    ("pss", "PSS ≤ 0.5 MB per container with 20 running"),
    ("helpers", "no helper process per container"),
    ("run", "ctr run --rm /bin/true ≤ 1.1× the bare runsc lifecycle"),
    ("stdout", "stdout ≥ 95% of bare"),
    ("idle", "zero CPU ticks idle"),
)


# --------------------------------------------------------------------------- utils

def now():
    return time.monotonic()


def ms(seconds):
    return round(seconds * 1000.0, 1)


def p90(xs):
    """Nearest-rank 90th percentile."""
    s = sorted(xs)
    return s[max(0, math.ceil(0.9 * len(s)) - 1)]


def summary(xs):
    """median / p90 / min / max of a list of milliseconds."""
    if not xs:
        return {"n": 0}
    return {"n": len(xs), "median": round(statistics.median(xs), 1), "p90": p90(xs),
            "min": min(xs), "max": max(xs)}


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def loadavg():
    return read("/proc/loadavg").split()[:3]


def output_line(cmd, lines=1):
    """The first `lines` lines of cmd's output, joined into one line."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        return " ".join(" ".join(ln.split()) for ln in
                        (out.stdout or out.stderr).strip().splitlines()[:lines]) or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ /proc readers

def processes():
    """{pid: {"ppid", "comm", "cmdline" (list), "exe"}} of live, non-zombie processes."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        stat = read(f"/proc/{pid}/stat")
        if not stat:
            continue
        head, _, rest = stat.rpartition(")")
        fields = rest.split()
        if fields[0] in ("Z", "X"):
            continue
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            exe = ""
        out[pid] = {"ppid": int(fields[1]), "comm": head.partition("(")[2],
                    "cmdline": read(f"/proc/{pid}/cmdline").split("\0")[:-1],
                    "exe": exe.removesuffix(" (deleted)")}
    return out


def smaps_rollup(pid):
    """{"rss_kb", "pss_kb", "private_kb"} of one process."""
    vals = {}
    for line in read(f"/proc/{pid}/smaps_rollup").splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[-1] == "kB":
            vals[parts[0].rstrip(":")] = int(parts[1])
    return {"rss_kb": vals.get("Rss", 0), "pss_kb": vals.get("Pss", 0),
            "private_kb": vals.get("Private_Clean", 0) + vals.get("Private_Dirty", 0)}


def smaps_breakdown(pid, binary):
    """RSS/PSS (kB) of one process grouped by what the mapping holds."""
    groups = {}
    key = None
    for line in read(f"/proc/{pid}/smaps").splitlines():
        parts = line.split()
        if not parts:
            continue
        if "-" in parts[0] and len(parts) >= 5 and not parts[0].endswith(":"):
            perms = parts[1]
            name = parts[5] if len(parts) >= 6 else ""
            if name and os.path.realpath(name) == str(binary):
                kind = "text" if "x" in perms else ("data/bss" if "w" in perms else "rodata")
                key = f"binary {kind}"
            elif name in ("[heap]", "[stack]", "[vdso]", "[vvar]", "[vsyscall]"):
                key = name
            elif not name:
                key = "anonymous (mmap: malloc arenas, thread stacks, Go heap)"
            else:
                key = os.path.basename(name)
            groups.setdefault(key, {"rss_kb": 0, "pss_kb": 0})
        elif key and parts[0] in ("Rss:", "Pss:"):
            groups[key][parts[0][:-1].lower() + "_kb"] += int(parts[1])
    return dict(sorted(groups.items(), key=lambda kv: -kv[1]["rss_kb"]))


def cpu_and_wakeups(pid):
    """(utime+stime ticks, voluntary+nonvoluntary context switches over all threads)."""
    fields = read(f"/proc/{pid}/stat").rpartition(")")[2].split()
    ticks = int(fields[11]) + int(fields[12]) if len(fields) > 12 else 0
    switches = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        tids = []
    for tid in tids:
        for line in read(f"/proc/{pid}/task/{tid}/status").splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                switches += int(line.split()[1])
    return ticks, switches


# ----------------------------------------------------------------- ctr helpers

class Runtime:
    """One runtime under test: how to run with it and how to recognise its shim."""

    def __init__(self, key, label, runtime, shim_exe):
        self.key, self.label, self.runtime = key, label, runtime
        self.shim_exe = str(Path(shim_exe).resolve())


def run_args(cd, rt, cid, cmd, detach=False, rootfs=None):
    """`ctr run` arguments: flags first, then --rootfs ROOTFS ID CMD
    (docs/containerd-contract.md)."""
    args = ["run", "--runtime", rt.runtime]
    if rt.runtime == harness.RUNSC_RUNTIME:
        args += ["--runtime-config-path", str(cd.shim_toml)]
    args += ["-d"] if detach else ["--rm"]
    args += [f"--env={e}" for e in harness.DEFAULT_ENV]
    return args + ["--rootfs", str(rootfs or cd.rootfs), cid, *cmd]


def start_detached(cd, rt, ns, cid, failures, cmd=("sleep", "1000"), attempts=3):
    """`ctr run -d`; a failed start is appended to failures, cleaned up and retried."""
    cd.track(ns, cid)
    for _ in range(attempts):
        r = cd.ctr(*run_args(cd, rt, cid, cmd, detach=True), ns=ns, timeout=120)
        if r.returncode == 0:
            return
        failures.append(f"ctr run -d ({rt.label}): {r.stderr.decode(errors='replace')[-300:]}")
        cd.ctr("task", "rm", "-f", cid, ns=ns)
        cd.ctr("container", "rm", cid, ns=ns)
    raise RuntimeError(f"ctr run -d {cid} ({rt.label}) failed {attempts} times: {failures[-1]}")


RUNSC_CALL_LINE = re.compile(r'msg="runsc (\w+) (\S+): exit status \d+ after ([\d.]+) ms"')
SHIM_CPU_LINE = re.compile(r'msg="shim for (\S+)/(\S+) exiting after ([\d.]+) ms of CPU"')


def split_run_times(log_text, ns, ids, totals_ms):
    """Where each measured `ctr run --rm` went, from the shim's debug lines in containerd's
    log: the runsc calls (create, start, delete) and the shim's own CPU time. The rest of
    the wall time is ctr, containerd, the sandbox's exit and the shim's waits on them.
    ids[i] is the container timed as totals_ms[i]."""
    runsc, cpu = {}, {}
    for m in RUNSC_CALL_LINE.finditer(log_text):
        runsc.setdefault(m.group(2), {})[m.group(1)] = float(m.group(3))
    for m in SHIM_CPU_LINE.finditer(log_text):
        if m.group(1) == ns:
            cpu[m.group(2)] = float(m.group(3))
    runs = []
    for cid, total in zip(ids, totals_ms):
        calls = runsc.get(cid, {})
        if not {"create", "start", "delete"} <= calls.keys() or cid not in cpu:
            continue
        in_runsc = calls["create"] + calls["start"] + calls["delete"]
        runs.append({"total": total, "runsc": in_runsc, "shim_cpu": cpu[cid],
                     "create": calls["create"], "start": calls["start"],
                     "delete": calls["delete"], "outside_runsc": total - in_runsc})
    if not runs:
        return None
    return {"n": len(runs), "median_ms": {k: round(statistics.median(r[k] for r in runs), 1)
                                          for k in runs[0]}}


LOG_TIME = r'time="(\d{4}-\d\d-\d\dT[\d:.]+)Z?" level=\w+ msg="'
TIMELINE_LINES = {
    "serving": re.compile(LOG_TIME + r'shim serving on \S+ for (?P<ns>[^/"]+)/(?P<cid>[^"]+)"'),
    "runsc": re.compile(LOG_TIME + r'runsc (?P<call>\w+) (?P<cid>\S+): exit status \d+ after '
                        r'(?P<ms>[\d.]+) ms"'),
    "exited": re.compile(LOG_TIME + r'container (?P<cid>\S+) exited with'),
    "deleted": re.compile(LOG_TIME + r'deleted container (?P<cid>[^"]+)"'),
}
# The phases of one `ctr run --rm`, in order; each is the wall time from the end of the one
# before (ctr's start for the first) to its own end.
TIMELINE_PHASES = (
    ("front", "ctr start → the shim serving: ctr, containerd's container and bundle, the "
              "shim's `start`"),
    ("to_create", "→ runsc create spawned: containerd's Create call, the shim's handling"),
    ("create", "runsc create"),
    ("to_start", "→ runsc start spawned: Create's reply, ctr's Wait and Start calls"),
    ("start", "runsc start"),
    ("exit", "→ the exit seen: the sandbox's exit and the output drained"),
    ("delete", "→ runsc delete done (started at the exit, before containerd's Delete)"),
    ("tail", "→ ctr gone: Delete's reply, Shutdown, containerd's cleanup, the container's "
             "removal, ctr's exit"),
)


def log_time(stamp):
    return datetime.datetime.fromisoformat(stamp).replace(
        tzinfo=datetime.timezone.utc).timestamp()


def run_timelines(log_text, ns, walls):
    """Per timed run, the phases of TIMELINE_PHASES in ms, from the timestamps of the shim's
    lines in containerd's log (the shim and the bench share the host's clock).
    walls: {cid: (wall time ctr was spawned, wall time it exited)}."""
    seen = {}
    for key, pattern in TIMELINE_LINES.items():
        for m in pattern.finditer(log_text):
            d = m.groupdict()
            if d.get("ns", ns) != ns or d["cid"] not in walls:
                continue
            slot = seen.setdefault(d["cid"], {})
            t = log_time(m.group(1))
            if key == "runsc":
                slot[d["call"]] = (t - float(d["ms"]) / 1000.0, t)
            else:
                slot[key] = t
    runs = []
    for cid, (t0, t1) in walls.items():
        s = seen.get(cid, {})
        if not {"serving", "create", "start", "exited", "delete", "deleted"} <= s.keys():
            continue
        ends = [s["serving"], s["create"][0], s["create"][1], s["start"][0], s["start"][1],
                s["exited"], s["deleted"], t1]
        runs.append({name: round(1000.0 * (end - begin), 1) for (name, _), begin, end in
                     zip(TIMELINE_PHASES, [t0] + ends[:-1], ends)})
    if not runs:
        return None
    return {"n": len(runs),
            "median_ms": {k: round(statistics.median(r[k] for r in runs), 1) for k in runs[0]},
            "min_ms": {k: min(r[k] for r in runs) for k in runs[0]},
            "max_ms": {k: max(r[k] for r in runs) for k in runs[0]}}


def capture_ctr_spec(cd, rt, dest):
    """The config.json containerd writes into the bundle for `ctr run` with our runtime
    (a detached /bin/true, removed again): the bare baselines run this same bundle."""
    ns = cd.new_namespace("spec")
    start_detached(cd, rt, ns, "spec", [], cmd=("/bin/true",))
    try:
        src = cd.state / "io.containerd.runtime.v2.task" / ns / "spec" / "config.json"
        Path(dest).write_bytes(src.read_bytes())
    finally:
        remove_all(cd, ns)
    return Path(dest)


def remove_all(cd, ns):
    """Force-delete every task and container in ns."""
    for line in cd.ctr("task", "ls", "-q", ns=ns).stdout.decode().split():
        cd.ctr("task", "rm", "-f", line, ns=ns, timeout=60)
    for line in cd.ctr("container", "ls", "-q", ns=ns).stdout.decode().split():
        cd.ctr("container", "rm", line, ns=ns, timeout=60)


def task_pids(cd, ns):
    """{container id: task pid} from `ctr task ls` (runsc: the sandbox; runc: the init)."""
    out = {}
    for line in cd.ctr("task", "ls", ns=ns).stdout.decode().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out


def shim_machinery(cd, rt, ns):
    """The shims of runtime rt serving namespace ns, each with its helper processes.

    Shim: a process whose exe is the shim binary and whose command line names ns.
    Below it, the sandbox and gofer (command line runsc-sandbox / runsc-gofer) and the
    container (the task pid) are the workload, with their whole subtrees (the ptrace
    stubs are the sandbox's children); any other descendant is a helper.
    """
    procs = processes()
    tasks = task_pids(cd, ns)
    workload_roots = set(tasks.values())
    children = {}
    for pid, p in procs.items():
        children.setdefault(p["ppid"], []).append(pid)
    shims = []
    for pid, p in procs.items():
        if p["exe"] != rt.shim_exe or ns not in p["cmdline"]:
            continue
        cid = p["cmdline"][p["cmdline"].index("-id") + 1] if "-id" in p["cmdline"] else "?"
        helpers, workload, stack = [], [], list(children.get(pid, []))
        while stack:
            c = stack.pop()
            argv0 = (procs[c]["cmdline"] or [""])[0]
            if c in workload_roots or argv0 in ("runsc-sandbox", "runsc-gofer"):
                workload.append(c)
                continue
            helpers.append(c)
            stack += children.get(c, [])
        mem = smaps_rollup(pid)
        for h in helpers:
            hm = smaps_rollup(h)
            for k in mem:
                mem[k] += hm[k]
        shims.append({"pid": pid, "id": cid, **mem, "helpers": [
            {"pid": h, "comm": procs[h]["comm"], "cmdline": " ".join(procs[h]["cmdline"])[:200]}
            for h in helpers]})
    return sorted(shims, key=lambda s: s["id"])


def timed_attempts(fn, n, max_attempts=None):
    """Call fn() -> (ok, seconds, error) until n successes or max_attempts calls.
    Returns (milliseconds of the successes, [errors])."""
    max_attempts = max_attempts or 3 * n
    times, errors = [], []
    while len(times) < n and len(times) + len(errors) < max_attempts:
        ok, seconds, err = fn()
        if ok:
            times.append(ms(seconds))
        else:
            errors.append(err)
    return times, errors


# ----------------------------------------------------------------- bare runsc worker

class Reaper:
    """Worker side: spawn children and reap every child (orphans too) in one thread,
    handing exit codes to whoever waits for that pid."""

    def __init__(self):
        self.cond = threading.Condition()
        self.status = {}  # pid -> (exit code, monotonic time reaped)
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                pid, st = os.waitpid(-1, 0)
            except ChildProcessError:
                with self.cond:
                    self.cond.wait(0.05)
                continue
            with self.cond:
                self.status[pid] = (os.waitstatus_to_exitcode(st), now())
                self.cond.notify_all()

    def spawn(self, argv, stdin=None, stdout=None, stderr=None):
        actions = [(os.POSIX_SPAWN_DUP2, fd, target)
                   for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)) if fd is not None]
        with self.cond:
            pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
            self.status.pop(pid, None)  # a stale entry of an earlier holder of this pid
            self.cond.notify_all()
        return pid

    def wait(self, pid, since=0.0, timeout=120):
        with self.cond:
            if not self.cond.wait_for(
                    lambda: pid in self.status and self.status[pid][1] >= since, timeout):
                raise TimeoutError(f"pid {pid} did not exit in {timeout}s")
            return self.status.pop(pid)[0]


class BareRunsc:
    """Worker side: bare runsc lifecycles against the bundle containerd writes for ctr.

    spec_path is the config.json containerd wrote for a `ctr run` of our runtime
    (capture_ctr_spec): same mounts, capabilities, masked paths and cgroupsPath as
    what the shim hands runsc. Only process.args and the cgroup (one per container,
    as containerd makes one per task) differ per run."""

    def __init__(self, rootfs, workdir, wait_mode, stdout_bytes, spec_path):
        self.reaper = Reaper()
        self.dir = Path(workdir)
        self.root = self.dir / "root"
        self.root.mkdir(parents=True)
        self.wait_mode = wait_mode
        self.devnull = os.open(os.devnull, os.O_RDWR)
        self.log_path = self.dir / "runsc-stderr.log"
        self.log_fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self.seq = 0
        self.live = set()
        self.template = json.loads(Path(spec_path).read_text())
        self.template["root"] = {"path": str(Path(rootfs).resolve())}
        # Parent of every bare container's cgroup, removed in close().
        self.cgroup_parent = f"shimbench-bare-{os.getpid()}"
        self.bundles = {name: self._bundle(name, args) for name, args in (
            ("true", ["/bin/true"]), ("sleep", ["sleep", "1000"]),
            ("head", ["head", "-c", str(stdout_bytes), "/dev/zero"]))}

    def _bundle(self, name, args):
        b = self.dir / f"bundle-{name}"
        b.mkdir()
        self.template["process"]["args"] = args
        (b / "config.json").write_text(json.dumps(self.template))
        return b

    def _prepare(self, bundle, cid):
        """Point the bundle's cgroupsPath at a fresh cgroup for cid (before the clock runs)."""
        path = self.bundles[bundle] / "config.json"
        spec = json.loads(path.read_text())
        spec["linux"]["cgroupsPath"] = f"/{self.cgroup_parent}/{cid}"
        path.write_text(json.dumps(spec))

    def _id(self):
        # Fixed width: runsc resolves ids by prefix (docs/runsc.md), b000001 is no prefix of
        # another.
        self.seq += 1
        return f"b{self.seq:06d}"

    def runsc(self, *args, stdout=None):
        pid = self.reaper.spawn([harness.STACK.runsc, f"--root={self.root}", "--network=none", *args],
                                stdin=self.devnull, stdout=stdout or self.devnull,
                                stderr=self.log_fd)
        st = self.reaper.wait(pid)
        if st != 0:
            tail = self.log_path.read_text(errors="replace")[-600:]
            raise RuntimeError(f"runsc {' '.join(args)}: exit {st}: {tail}")

    def runsc_output(self, *args):
        r, w = os.pipe()
        pid = self.reaper.spawn([harness.STACK.runsc, f"--root={self.root}", *args],
                                stdin=self.devnull, stdout=w, stderr=self.log_fd)
        os.close(w)
        chunks = []
        while chunk := os.read(r, 65536):
            chunks.append(chunk)
        os.close(r)
        return self.reaper.wait(pid), b"".join(chunks)

    def _create_start(self, bundle):
        cid = self._id()
        pid_file = self.root / f"{cid}.pid"
        self._prepare(bundle, cid)
        t0 = now()
        self.runsc("create", "--bundle", str(self.bundles[bundle]), "--pid-file", str(pid_file), cid)
        self.live.add(cid)
        t1 = now()
        self.runsc("start", cid)
        t2 = now()
        return cid, int(pid_file.read_text()), t0, t1, t2

    def _wait_exit(self, cid, sandbox_pid, since):
        if self.wait_mode == "reap":
            return self.reaper.wait(sandbox_pid, since=since)
        while True:  # "state": poll runsc state (the reaper still reaps the sandbox and gofer)
            st, out = self.runsc_output("state", cid)
            if st == 0 and json.loads(out).get("status") == "stopped":
                return None
            time.sleep(0.005)

    def _delete(self, cid):
        self.runsc("delete", cid)
        self.live.discard(cid)

    def op_lifecycle(self):
        cid, pid, t0, t1, t2 = self._create_start("true")
        status = self._wait_exit(cid, pid, t0)
        t3 = now()
        self._delete(cid)
        t4 = now()
        return {"create_ms": ms(t1 - t0), "start_ms": ms(t2 - t1), "exit_ms": ms(t3 - t2),
                "delete_ms": ms(t4 - t3), "total_ms": ms(t4 - t0), "status": status}

    def op_runc_lifecycle(self):
        """The same lifecycle with runc: what containerd's path costs over a bare runtime
        for the reference shim (its `ctr run` is timed beside ours)."""
        cid = self._id()
        self._prepare("true", cid)
        bundle, pid_file = str(self.bundles["true"]), self.root / f"{cid}.runc.pid"
        t0 = now()
        self.runc("create", "--bundle", bundle, "--pid-file", str(pid_file), cid)
        t1 = now()
        self.runc("start", cid)
        status = self.reaper.wait(int(pid_file.read_text()), since=t0)
        t2 = now()
        self.runc("delete", cid)
        t3 = now()
        return {"create_ms": ms(t1 - t0), "start_and_exit_ms": ms(t2 - t1),
                "delete_ms": ms(t3 - t2), "total_ms": ms(t3 - t0), "status": status}

    def runc(self, *args):
        pid = self.reaper.spawn(["runc", f"--root={self.root}/runc", *args],
                                stdin=self.devnull, stdout=self.devnull, stderr=self.log_fd)
        st = self.reaper.wait(pid)
        if st != 0:
            tail = self.log_path.read_text(errors="replace")[-600:]
            raise RuntimeError(f"runc {' '.join(args)}: exit {st}: {tail}")

    def op_exec_start(self):
        cid, pid, *_ = self._create_start("sleep")
        self.sleeper = (cid, pid)
        return {"id": cid}

    def op_exec(self):
        t0 = now()
        self.runsc("exec", self.sleeper[0], "/bin/true")
        return {"ms": ms(now() - t0)}

    def op_exec_stop(self):
        cid, pid = self.sleeper
        t0 = now()
        self.runsc("kill", cid, "KILL")
        self.reaper.wait(pid, since=0)
        self._delete(cid)
        return {"ms": ms(now() - t0)}

    def op_stdout(self):
        cid = self._id()
        self._prepare("head", cid)
        r, w = os.pipe()
        t0 = now()
        pid = self.reaper.spawn([harness.STACK.runsc, f"--root={self.root}", "--network=none", "run",
                                 "--bundle", str(self.bundles["head"]), cid],
                                stdin=self.devnull, stdout=w, stderr=self.log_fd)
        os.close(w)
        total, first = 0, None
        while chunk := os.read(r, 1 << 20):
            if first is None:
                first = now()
            total += len(chunk)
        t_eof = now()
        os.close(r)
        status = self.reaper.wait(pid)
        return {"bytes": total, "stream_s": t_eof - (first or t_eof),
                "total_s": now() - t0, "status": status}

    def close(self):
        for cid in list(self.live):
            try:
                self.runsc("delete", "--force", cid)
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass
        harness.unmount_all(self.dir)
        harness.remove_cgroups(self.cgroup_parent)
        subprocess.run(["rm", "-rf", str(self.dir)])


def bare_worker(a):
    """Entry point of the worker process: one JSON request per stdin line."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit(f"prctl(PR_SET_CHILD_SUBREAPER): errno {ctypes.get_errno()}")
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything stray goes to stderr, never into the protocol
    bare = BareRunsc(a.rootfs, a.workdir, a.bare_wait, a.stdout_bytes, a.spec)
    try:
        proto.write(json.dumps({"ready": True}) + "\n")
        for line in sys.stdin:
            req = json.loads(line)
            try:
                resp = getattr(bare, "op_" + req["op"])()
            except Exception as e:  # noqa: BLE001 - reported to the caller
                resp = {"error": f"{type(e).__name__}: {e}"}
            proto.write(json.dumps(resp) + "\n")
    finally:
        bare.close()


class BareClient:
    """Main side of the bare runsc worker."""

    def __init__(self, rootfs, workdir, wait_mode, stdout_bytes, spec_path):
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--bare-worker",
             "--rootfs", str(rootfs), "--workdir", str(workdir), "--bare-wait", wait_mode,
             "--stdout-bytes", str(stdout_bytes), "--spec", str(spec_path)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True)
        self._reply()

    def _reply(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("bare runsc worker died (see stderr)")
        r = json.loads(line)
        if "error" in r:
            raise RuntimeError(r["error"])
        return r

    def call(self, op):
        self.proc.stdin.write(json.dumps({"op": op}) + "\n")
        self.proc.stdin.flush()
        return self._reply()

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(60)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


# ------------------------------------------------------------------------ the rows

class Bench:
    def __init__(self, a, cd, rootfs, workdir):
        self.a, self.cd, self.rootfs, self.workdir = a, cd, rootfs, workdir
        self.reps = 3 if a.quick else 10
        self.ours = Runtime("ours", "runsc shim (ours)", harness.RUNSC_RUNTIME, cd.shim)
        self.gorunc = Runtime("go_runc", "Go runc shim", harness.RUNC_RUNTIME,
                              harness.STACK.runc_shim() or GO_RUNC_SHIM)
        self._bare = None
        self.start_failures = []  # failed `ctr run -d` attempts (retried), all rows

    def bare(self):
        if self._bare is None:
            spec = capture_ctr_spec(self.cd, self.ours, self.workdir / "ctr-config.json")
            self._bare = BareClient(self.rootfs, self.workdir / "bare", self.a.bare_wait,
                                    self.a.stdout_bytes, spec)
        return self._bare

    def close(self):
        if self._bare:
            self._bare.close()

    # -- memory ----------------------------------------------------------------

    def memory(self):
        out = {}
        for rt in (self.ours, self.gorunc):
            ns = self.cd.new_namespace(f"mem-{rt.key}")
            res, started = {}, 0
            try:
                for n in MEMORY_COUNTS:
                    log(f"memory: {rt.label}, starting containers up to {n}")
                    while started < n:
                        start_detached(self.cd, rt, ns, f"m{started:02d}", self.start_failures)
                        started += 1
                    time.sleep(self.a.settle)
                    shims = shim_machinery(self.cd, rt, ns)
                    if len(shims) != n:
                        raise RuntimeError(f"{rt.label}: found {len(shims)} shims for {n} containers")
                    helpers = sum(len(s["helpers"]) for s in shims)
                    res[str(n)] = {
                        "containers": n, "shims": len(shims),
                        "rss_kb_per_shim": round(statistics.mean(s["rss_kb"] for s in shims)),
                        "pss_kb_per_shim": round(statistics.mean(s["pss_kb"] for s in shims)),
                        "private_kb_per_shim": round(statistics.mean(s["private_kb"] for s in shims)),
                        "rss_kb_total": sum(s["rss_kb"] for s in shims),
                        "pss_kb_total": sum(s["pss_kb"] for s in shims),
                        "helpers_per_container": helpers / n,
                        "helpers": [h for s in shims for h in s["helpers"]][:10],
                        "per_shim": [{k: s[k] for k in ("pid", "id", "rss_kb", "pss_kb")}
                                     for s in shims]}
                    if n == MEMORY_COUNTS[0]:
                        res["breakdown_one_shim"] = smaps_breakdown(shims[0]["pid"], rt.shim_exe)
            finally:
                remove_all(self.cd, ns)
            out[rt.key] = res
        return out

    # -- ctr run --rm /bin/true vs the bare lifecycle --------------------------------

    def run(self):
        ns = self.cd.new_namespace("run")
        bare = self.bare()
        seq = iter(range(10 ** 6))

        ids, walls = [], {}

        def ctr_true(rt=self.ours):
            # ctr itself, spawned as the bare worker spawns runsc: not under the harness's
            # `timeout` wrapper, whose own exec and exit cost about 10 ms per run here.
            cid = f"r{next(seq):04d}"
            self.cd.track(ns, cid)
            cmd = [harness.STACK.ctr, "-a", self.cd.address, "-n", ns,
                   *run_args(self.cd, rt, cid, ["/bin/true"])]
            wall0, t0 = time.time(), now()
            try:
                r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                                   timeout=120)
            except subprocess.TimeoutExpired:
                return False, now() - t0, "ctr run timed out after 120 s"
            elapsed = now() - t0
            if r.returncode == 0 and rt is self.ours:
                ids.append(cid)  # in step with the times timed_attempts keeps
                walls[cid] = (wall0, time.time())
            return r.returncode == 0, elapsed, r.stderr.decode(errors="replace")[-300:]

        log("run: warm-up")
        ctr_true()
        ctr_true(self.gorunc)
        ids.clear()
        walls.clear()
        bare.call("lifecycle")
        bare.call("runc_lifecycle")
        ours, errors, bare_runs, runc, runc_errors, bare_runc = [], [], [], [], [], []
        # Interleaved, so that load from elsewhere on the host hits all alike.
        for i in range(self.reps):
            t, e = timed_attempts(ctr_true, 1, max_attempts=3)
            ours += t
            errors += e
            bare_runs.append(bare.call("lifecycle"))
            tr, er = timed_attempts(lambda: ctr_true(self.gorunc), 1, max_attempts=3)
            runc += tr
            runc_errors += er
            bare_runc.append(bare.call("runc_lifecycle"))
            log(f"run {i + 1}/{self.reps}: ctr {t} ms, bare {bare_runs[-1]['total_ms']} ms; "
                f"runc: ctr {tr} ms, bare {bare_runc[-1]['total_ms']} ms")
        remove_all(self.cd, ns)
        bare_total = [b["total_ms"] for b in bare_runs]
        bare_runc_total = [b["total_ms"] for b in bare_runc]
        phases = {k: statistics.median(b[k] for b in bare_runs)
                  for k in ("create_ms", "start_ms", "exit_ms", "delete_ms")}
        log_text = self.cd.log_text()
        return {"ours_ms": ours, "ours": summary(ours), "ours_failures": errors,
                "ours_split": split_run_times(log_text, ns, ids, ours),
                "ours_timeline": run_timelines(log_text, ns, walls),
                "runc_ms": runc, "runc": summary(runc), "runc_failures": runc_errors,
                "bare_runc_ms": bare_runc_total, "bare_runc": summary(bare_runc_total),
                "runc_ratio": round(summary(runc)["median"] / summary(bare_runc_total)["median"],
                                    3) if runc else None,
                "bare_ms": bare_total, "bare": summary(bare_total),
                "bare_phases_median_ms": phases,
                "bare_exit_status": sorted({b["status"] for b in bare_runs}, key=str),
                "bare_wait": self.a.bare_wait,
                "ratio": round(summary(ours)["median"] / summary(bare_total)["median"], 3)
                if ours else None}

    # -- ctr task exec ------------------------------------------------------------

    def exec(self):
        ns = self.cd.new_namespace("exec")
        bare = self.bare()
        start_detached(self.cd, self.ours, ns, "x0", self.start_failures)
        bare.call("exec_start")
        seq = iter(range(10 ** 6))

        def ctr_exec():
            t0 = now()
            r = self.cd.ctr("task", "exec", "--exec-id", f"e{next(seq)}", "x0", "/bin/true",
                            ns=ns, timeout=60)
            return r.returncode == 0, now() - t0, r.stderr.decode(errors="replace")[-300:]

        try:
            ctr_exec()  # warm-up
            bare.call("exec")
            ours, errors, bare_ms = [], [], []
            for i in range(self.reps):
                t, e = timed_attempts(ctr_exec, 1, max_attempts=3)
                ours += t
                errors += e
                bare_ms.append(bare.call("exec")["ms"])
                log(f"exec {i + 1}/{self.reps}: ctr {t} ms ({len(e)} failed), bare {bare_ms[-1]} ms")
        finally:
            bare.call("exec_stop")
            remove_all(self.cd, ns)
        return {"ours_ms": ours, "ours": summary(ours), "ours_failures": errors,
                "attempts": len(ours) + len(errors),
                "bare_ms": bare_ms, "bare": summary(bare_ms),
                "ratio": round(summary(ours)["median"] / summary(bare_ms)["median"], 3)
                if ours else None}

    # -- stdout throughput ----------------------------------------------------------

    def ctr_stdout_once(self, ns, cid, nbytes):
        cmd = ["timeout", "-s", "KILL", "300", harness.STACK.ctr, "-a", self.cd.address, "-n", ns,
               *run_args(self.cd, self.ours, cid, ["head", "-c", str(nbytes), "/dev/zero"])]
        self.cd.track(ns, cid)
        with tempfile.TemporaryFile() as err:
            t0 = now()
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
            fd, total, first = p.stdout.fileno(), 0, None
            while chunk := os.read(fd, 1 << 20):
                if first is None:
                    first = now()
                total += len(chunk)
            t_eof = now()
            p.stdout.close()
            status = p.wait(60)
            err.seek(0)
            return {"bytes": total, "stream_s": t_eof - (first or t_eof), "total_s": now() - t0,
                    "status": status, "stderr": err.read().decode(errors="replace")[-300:]}

    def stdout(self):
        ns = self.cd.new_namespace("stdout")
        nbytes = self.a.stdout_bytes
        bare = self.bare()
        reps = 1 if self.a.quick else 3
        ours, bare_runs = [], []
        for i in range(reps):
            ours.append(self.ctr_stdout_once(ns, f"s{i}", nbytes))
            bare_runs.append(bare.call("stdout"))
            log(f"stdout {i + 1}/{reps}: ctr {ours[-1]['bytes']} B in {ours[-1]['stream_s']:.2f}s, "
                f"bare {bare_runs[-1]['bytes']} B in {bare_runs[-1]['stream_s']:.2f}s")
        remove_all(self.cd, ns)

        def mibs(r):
            return r["bytes"] / (1 << 20) / r["stream_s"] if r["stream_s"] > 0 else 0.0

        ok = all(r["bytes"] == nbytes and r["status"] == 0 for r in ours)
        bare_ok = all(r["bytes"] == nbytes and r["status"] == 0 for r in bare_runs)
        o = statistics.median(mibs(r) for r in ours)
        b = statistics.median(mibs(r) for r in bare_runs)
        spread = {"ours_mib_s_min": round(min(mibs(r) for r in ours), 1),
                  "ours_mib_s_max": round(max(mibs(r) for r in ours), 1),
                  "bare_mib_s_min": round(min(mibs(r) for r in bare_runs), 1),
                  "bare_mib_s_max": round(max(mibs(r) for r in bare_runs), 1)}
        o_total = statistics.median(r["bytes"] / (1 << 20) / r["total_s"] for r in ours)
        b_total = statistics.median(r["bytes"] / (1 << 20) / r["total_s"] for r in bare_runs)
        return {"bytes": nbytes, "ours_mib_s": round(o, 1), "bare_mib_s": round(b, 1),
                "ratio": round(o / b, 3) if b else None, "runs": reps, **spread,
                "ours_mib_s_incl_startup": round(o_total, 1),
                "bare_mib_s_incl_startup": round(b_total, 1),
                "all_bytes_arrived": ok, "bare_all_bytes_arrived": bare_ok,
                "ours_runs": ours, "bare_runs": bare_runs}

    # -- 20 at once -----------------------------------------------------------------

    def parallel(self):
        ns = self.cd.new_namespace("parallel")
        results = [None] * PARALLEL
        gate = threading.Barrier(PARALLEL + 1)

        def one(i):
            gate.wait()
            t0 = now()
            r = self.cd.run_container(f"p{i:02d}", ["sh", "-c", f"exit {i % 5}"], ns=ns,
                                      timeout=300)
            results[i] = (r.returncode, now() - t0, r.stderr.decode(errors="replace")[-200:])

        threads = [threading.Thread(target=one, args=(i,)) for i in range(PARALLEL)]
        for t in threads:
            t.start()
        gate.wait()
        t0 = now()
        for t in threads:
            t.join()
        wall = now() - t0
        remove_all(self.cd, ns)
        wrong = [{"i": i, "want": i % 5, "got": r[0], "stderr": r[2]}
                 for i, r in enumerate(results) if r[0] != i % 5]
        return {"containers": PARALLEL, "wall_s": round(wall, 2), "exits_right": not wrong,
                "wrong": wrong, "slowest_s": round(max(r[1] for r in results), 2),
                "exit_codes": [r[0] for r in results]}

    # -- idle -----------------------------------------------------------------------

    def idle(self):
        ns = self.cd.new_namespace("idle")
        seconds = self.a.idle_seconds
        try:
            for rt in (self.ours, self.gorunc):
                start_detached(self.cd, rt, ns, f"i-{rt.key}", self.start_failures)
            time.sleep(self.a.settle)
            pids = {}
            for rt in (self.ours, self.gorunc):
                shims = shim_machinery(self.cd, rt, ns)
                if len(shims) != 1:
                    raise RuntimeError(f"idle: {len(shims)} {rt.label} processes")
                pids[rt.key] = [shims[0]["pid"]] + [h["pid"] for h in shims[0]["helpers"]]
            before = {k: [cpu_and_wakeups(p) for p in v] for k, v in pids.items()}
            log(f"idle: watching the shims for {seconds}s")
            time.sleep(seconds)
            after = {k: [cpu_and_wakeups(p) for p in v] for k, v in pids.items()}
        finally:
            remove_all(self.cd, ns)
        out = {"seconds": seconds, "clk_tck": CLK_TCK}
        for k in pids:
            ticks = sum(a[0] - b[0] for a, b in zip(after[k], before[k]))
            wake = sum(a[1] - b[1] for a, b in zip(after[k], before[k]))
            out[k] = {"pid": pids[k][0], "cpu_ticks": ticks, "wakeups": wake,
                      "wakeups_per_s": round(wake / seconds, 2)}
        return out


# ------------------------------------------------------------------- report

def fmt_ms(s):
    """'median ms (p90)' of a summary(), or a note when nothing succeeded."""
    return f"{s['median']:.0f} ms ({s['p90']:.0f})" if s["n"] else "no successful sample"


def fmt_kb(kb):
    return f"{kb / KB_PER_MB:.2f} MB" if kb >= 1000 else f"{kb} kB"


def budget(rows):
    """[(text, value text, verdict)] for the budget lines whose rows were measured."""
    out = []
    m = rows.get("memory")
    if m:
        ours = m["ours"]
        worst = max(ours[str(n)]["rss_kb_per_shim"] for n in MEMORY_COUNTS)
        out.append(("rss", f"{fmt_kb(worst)} (worst of 1 and 20 running)",
                    worst <= 2 * KB_PER_MB))
        per = ours["20"]["pss_kb_total"] / 20
        out.append(("pss", f"{per:.0f} kB (total PSS of the 20 shims / 20)",
                    per <= 0.5 * KB_PER_MB))
        h = max(ours[str(n)]["helpers_per_container"] for n in MEMORY_COUNTS)
        out.append(("helpers", f"{h:g} per container", h == 0))
    r = rows.get("run")
    if r and r["ratio"] is not None:
        out.append(("run", f"{r['ratio']:.2f}× ({r['ours']['median']:.0f} vs "
                           f"{r['bare']['median']:.0f} ms)", r["ratio"] <= 1.1))
    s = rows.get("stdout")
    if s and s["ratio"] is not None:
        out.append(("stdout", f"{100 * s['ratio']:.0f}% ({s['ours_mib_s']:.0f} vs "
                              f"{s['bare_mib_s']:.0f} MiB/s)",
                    s["ratio"] >= 0.95 and s["all_bytes_arrived"]))
    i = rows.get("idle")
    if i:
        out.append(("idle", f"{i['ours']['cpu_ticks']} ticks in {i['seconds']} s",
                    i["ours"]["cpu_ticks"] == 0))
    text = dict(BUDGET)
    return [{"key": k, "line": text[k], "value": v, "pass": ok} for k, v, ok in out]


def verdict(checks, key):
    for c in checks:
        if c["key"] == key:
            return "**PASS**" if c["pass"] else "**MISS**"
    return ""


def table(rows, checks, meta):
    head = ["Row", "runsc shim (ours)", "Reference", "Ratio", "Budget", "Verdict"]
    lines = []

    def row(*cells):
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")

    m = rows.get("memory")
    if m:
        o, g = m["ours"], m["go_runc"]
        for n in MEMORY_COUNTS:
            k = str(n)
            for what, key in (("RSS", "rss_kb_per_shim"), ("PSS", "pss_kb_per_shim")):
                bud, ver = "", ""
                if what == "RSS":
                    bud, ver = "≤ 2 MB", verdict(checks, "rss")
                elif n == 20:
                    bud, ver = "≤ 0.5 MB / container", verdict(checks, "pss")
                row(f"memory, {n} running: {what} per shim", fmt_kb(o[k][key]),
                    f"Go runc shim: {fmt_kb(g[k][key])}", f"{o[k][key] / g[k][key]:.2f}×",
                    bud, ver)
        for what, key in (("RSS", "rss_kb_total"), ("PSS", "pss_kb_total")):
            row(f"memory, 20 running: {what} total", fmt_kb(o["20"][key]),
                f"Go runc shim: {fmt_kb(g['20'][key])}", f"{o['20'][key] / g['20'][key]:.2f}×",
                "", "")
        row("helper processes per container (1 / 20 running)",
            f"{o['1']['helpers_per_container']:g} / {o['20']['helpers_per_container']:g}",
            f"Go runc shim: {g['1']['helpers_per_container']:g} / "
            f"{g['20']['helpers_per_container']:g}", "", "0", verdict(checks, "helpers"))
    r = rows.get("run")
    if r:
        fails = f", {len(r['ours_failures'])} failed" if r["ours_failures"] else ""
        row(f"`ctr run --rm /bin/true`, median (p90) of {r['ours']['n']}",
            f"{fmt_ms(r['ours'])}{fails}", f"bare runsc lifecycle: {fmt_ms(r['bare'])}",
            f"{r['ratio']:.2f}×" if r["ratio"] else "", "≤ 1.1×", verdict(checks, "run"))
        if r.get("runc"):
            fails = f", {len(r['runc_failures'])} failed" if r["runc_failures"] else ""
            row(f"the same with the Go runc shim (containerd's path to a runtime), median (p90)",
                f"{fmt_ms(r['runc'])}{fails}", f"bare runc lifecycle: {fmt_ms(r['bare_runc'])}",
                f"{r['runc_ratio']:.2f}×" if r["runc_ratio"] else "", "", "")
    e = rows.get("exec")
    if e:
        fails = f", {len(e['ours_failures'])} of {e['attempts']} failed" if e["ours_failures"] else ""
        row(f"`ctr task exec /bin/true`, median (p90) of {e['ours']['n']}",
            f"{fmt_ms(e['ours'])}{fails}", f"bare `runsc exec`: {fmt_ms(e['bare'])}",
            f"{e['ratio']:.2f}×" if e["ratio"] else "", "", "")
    s = rows.get("stdout")
    if s:
        lost = "" if s["all_bytes_arrived"] else " (bytes lost!)"
        row(f"stdout, {s['bytes'] >> 20} MiB through ctr, first byte → EOF, median "
            f"(min–max) of {s.get('runs', 1)}",
            f"{s['ours_mib_s']:.0f} MiB/s ({s.get('ours_mib_s_min', 0):.0f}–"
            f"{s.get('ours_mib_s_max', 0):.0f}){lost}",
            f"bare `runsc run` into a pipe: {s['bare_mib_s']:.0f} MiB/s "
            f"({s.get('bare_mib_s_min', 0):.0f}–{s.get('bare_mib_s_max', 0):.0f})",
            f"{100 * s['ratio']:.0f}%" if s["ratio"] else "", "≥ 95%", verdict(checks, "stdout"))
    p = rows.get("parallel")
    if p:
        row(f"{p['containers']} × `ctr run --rm` at once", f"{p['wall_s']:.1f} s wall, "
            f"exit codes right: {'yes' if p['exits_right'] else 'no'}", "", "", "", "")
    i = rows.get("idle")
    if i:
        o, g = i["ours"], i["go_runc"]
        row(f"idle shim, {i['seconds']} s: CPU ticks (utime+stime)", o["cpu_ticks"],
            f"Go runc shim: {g['cpu_ticks']}", "", "0", verdict(checks, "idle"))
        row(f"idle shim, {i['seconds']} s: wake-ups (context switches)", o["wakeups"],
            f"Go runc shim: {g['wakeups']}", "", "", "")
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + lines)


def notes(rows, meta):
    out = []
    r = rows.get("run")
    if r:
        ph = r["bare_phases_median_ms"]
        how = ("reaping the sandbox process (pid from `--pid-file`; the bench worker is a "
               "child subreaper, as the shim is)" if r["bare_wait"] == "reap"
               else "polling `runsc state` every 5 ms")
        out.append(f"Bare runsc lifecycle = `runsc create` + `start` + wait for the sandbox "
                   f"to exit + `delete` (`--root` a temp dir, `--network=none`, the config.json "
                   f"containerd wrote for a `ctr run` of ours, own cgroupsPath per container); "
                   f"the wait is {how}. Median phases: "
                   f"create {ph['create_ms']:.0f}, start {ph['start_ms']:.0f}, "
                   f"exit {ph['exit_ms']:.0f}, delete {ph['delete_ms']:.0f} ms. "
                   f"ctr and bare runs alternate.")
        sp = r.get("ours_split")
        if sp:
            m = sp["median_ms"]
            bare_runsc = ph["create_ms"] + ph["start_ms"] + ph["delete_ms"]
            out.append(f"Where `ctr run --rm` goes (medians of {sp['n']} runs, from the shim's "
                       f"debug lines in containerd's log): runsc calls {m['runsc']:.0f} ms "
                       f"(create {m['create']:.0f}, start {m['start']:.0f}, delete "
                       f"{m['delete']:.0f}; bare: {bare_runsc:.0f}), everything else "
                       f"{m['outside_runsc']:.0f} ms (bare: {r['bare']['median'] - bare_runsc:.0f}"
                       f" ms, the sandbox's exit and process spawns), of which the shim's own "
                       f"CPU time is {m['shim_cpu']:.1f} ms; the remainder is ctr, containerd and "
                       f"the sandbox's exit. ctr is spawned directly, as bare runsc is.")
        tl = r.get("ours_timeline")
        if tl:
            parts = [f"{tl['median_ms'][k]:.0f} ({tl['min_ms'][k]:.0f}–{tl['max_ms'][k]:.0f}) "
                     f"{text}" for k, text in TIMELINE_PHASES]
            out.append(f"One `ctr run --rm` of ours, phase by phase (median (min–max) ms of "
                       f"{tl['n']}, from the timestamps of the shim's lines in containerd's log): "
                       + "; ".join(parts) + ".")
        if r.get("runc"):
            over = r["runc"]["median"] - r["bare_runc"]["median"]
            ours_over = r["ours"]["median"] - r["bare"]["median"]
            out.append(f"containerd's own path: `ctr run --rm` with the Go runc shim takes "
                       f"{over:.0f} ms more than bare runc (`runc create`, `start`, reap, "
                       f"`delete`, same config.json); ours takes {ours_over:.0f} ms more than "
                       f"bare runsc. 1.1× of the bare runsc lifecycle leaves "
                       f"{0.1 * r['bare']['median']:.0f} ms for all of ctr, containerd and the "
                       f"shim.")
        if r["ours_failures"]:
            out.append(f"`ctr run` failures: {r['ours_failures'][0]!r}")
    e = rows.get("exec")
    if e and e["ours_failures"]:
        out.append(f"`ctr task exec` failed {len(e['ours_failures'])} of {e['attempts']} "
                   f"attempts (retried up to 3× per sample), e.g. {e['ours_failures'][0].strip()!r}")
    s = rows.get("stdout")
    if s:
        out.append(f"Throughput is bytes / (first byte → EOF) as read by the bench; counting "
                   f"from process start (sandbox boot included) it is "
                   f"{s['ours_mib_s_incl_startup']:.0f} MiB/s through ctr vs "
                   f"{s['bare_mib_s_incl_startup']:.0f} MiB/s bare.")
    p = rows.get("parallel")
    if p and p["wrong"]:
        out.append(f"Wrong exit codes: {p['wrong']}")
    i = rows.get("idle")
    if i:
        out.append(f"Idle: one `sleep 1000` container per runtime, the shim (plus helpers) "
                   f"sampled {i['seconds']} s apart; wake-ups = voluntary + nonvoluntary "
                   f"context switches summed over the shim's threads (Go shim: "
                   f"{i['go_runc']['wakeups_per_s']}/s).")
    m = rows.get("memory")
    if m:
        out.append("Memory: shim process + helpers (descendants other than runsc-sandbox, "
                   "runsc-gofer and the container), from /proc/PID/smaps_rollup; "
                   f"MB = 1024 kB; measured {meta['settle_s']} s after the last start.")
    if meta.get("start_failures"):
        out.append(f"`ctr run -d` (memory, exec and idle setup) failed and was retried "
                   f"{len(meta['start_failures'])} times, e.g. "
                   f"{meta['start_failures'][0].strip()!r}")
    out.append(f"Host: {meta['kernel']}, {meta['cpus']} CPUs, load average "
               f"{' '.join(meta['loadavg_start'])} at start, {' '.join(meta['loadavg_end'])} at "
               f"end (other work shares this host); {meta['runsc']}; {meta['containerd']}; "
               f"shim {meta['shim_version']} ({meta['build_type']}).")
    return out


def breakdown_text(rows):
    m = rows.get("memory")
    if not m:
        return []
    out = []
    for key, label in (("ours", "runsc shim (ours)"), ("go_runc", "Go runc shim")):
        b = m[key].get("breakdown_one_shim", {})
        parts = [f"{name} {v['rss_kb']} kB" for name, v in list(b.items())[:6] if v["rss_kb"]]
        out.append(f"- {label}, 1 running, RSS by mapping: " + ", ".join(parts))
    return out


def write_plot_data(rows, resdir):
    """memory.dat and latency.dat for plot.gp; a file this run has no data for is removed."""
    for name in ("memory.dat", "latency.dat"):
        (resdir / name).unlink(missing_ok=True)
    m = rows.get("memory")
    if m:
        with open(resdir / "memory.dat", "w") as f:
            f.write("# group ours_MiB go_runc_MiB (per shim)\n")
            for n in MEMORY_COUNTS:
                for what, key in (("RSS", "rss_kb_per_shim"), ("PSS", "pss_kb_per_shim")):
                    f.write(f'"{what}, {n} running" {m["ours"][str(n)][key] / 1024:.3f} '
                            f'{m["go_runc"][str(n)][key] / 1024:.3f}\n')
    r, e = rows.get("run"), rows.get("exec")
    if r or e:
        with open(resdir / "latency.dat", "w") as f:
            f.write("# label ours_median ours_min ours_p90 bare_median bare_min bare_p90 (ms)\n")
            for label, x in (("ctr run --rm /bin/true", r), ("ctr task exec /bin/true", e)):
                if x and x["ours"]["n"] and x["bare"]["n"]:
                    o, b = x["ours"], x["bare"]
                    f.write(f'"{label}" {o["median"]} {o["min"]} {o["p90"]} '
                            f'{b["median"]} {b["min"]} {b["p90"]}\n')


# ------------------------------------------------------------------------- main

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="fewer repetitions (3, stdout once) and a 5 s idle window: CI smoke")
    p.add_argument("--only", action="append", default=[], metavar="ROW",
                   help=f"measure only these rows ({', '.join(ROWS)}); repeat or comma-separate")
    p.add_argument("--idle-seconds", type=float, default=None,
                   help="idle window (default 60, 5 with --quick)")
    p.add_argument("--stdout-bytes", type=int, default=STDOUT_BYTES, help=argparse.SUPPRESS)
    p.add_argument("--settle", type=float, default=2.0,
                   help="seconds to let fresh containers settle before sampling (default 2)")
    p.add_argument("--bare-wait", choices=("reap", "state"), default="reap",
                   help="how the bare lifecycle waits for the sandbox: reap it as a subreaper "
                        "(default) or poll `runsc state`")
    p.add_argument("--results", type=Path, default=BENCH / "results", help="output folder")
    p.add_argument("--bare-worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--rootfs", help=argparse.SUPPRESS)
    p.add_argument("--workdir", help=argparse.SUPPRESS)
    p.add_argument("--spec", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    only = [x for o in a.only for x in o.split(",") if x]
    bad = [x for x in only if x not in ROWS]
    if bad:
        p.error(f"unknown row(s) {bad}: choose from {', '.join(ROWS)}")
    a.rows = [r for r in ROWS if not only or r in only]
    if a.idle_seconds is None:
        a.idle_seconds = 5.0 if a.quick else 60.0
    if a.idle_seconds == int(a.idle_seconds):
        a.idle_seconds = int(a.idle_seconds)
    return a


def main(argv):
    a = parse_args(argv)
    if a.bare_worker:
        return bare_worker(a)
    shim = Path(os.environ.get("SHIM_BINARY") or DEFAULT_SHIM).resolve()
    if not shim.is_file():
        sys.exit(f"shim binary not found: {shim} (build it, or set SHIM_BINARY)")
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": a.quick, "rows": a.rows, "idle_seconds": a.idle_seconds,
        "settle_s": a.settle, "shim": str(shim),
        "shim_version": output_line([str(shim), "-v"], 3),
        "build_type": os.environ.get("BENCH_BUILD_TYPE", "build type not given"),
        "git": output_line(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
        "kernel": platform.release(), "cpus": os.cpu_count(),
        "stack": harness.STACK.name,
        "runsc": output_line([harness.STACK.runsc, "--version"]),
        "containerd": output_line([harness.STACK.containerd, "--version"]),
        "go_runc_shim": output_line([harness.STACK.runc_shim() or GO_RUNC_SHIM, "-v"], 3),
        "loadavg_start": loadavg(),
    }
    rows = {}
    with tempfile.TemporaryDirectory(prefix="shimbench-") as tmp:
        tmp = Path(tmp)
        rootfs = harness.build_busybox_rootfs(tmp / "rootfs")
        with harness.Containerd(shim=shim, rootfs=rootfs) as cd:
            bench = Bench(a, cd, rootfs, tmp)
            try:
                for row in a.rows:
                    log(f"row {row}")
                    t0 = now()
                    rows[row] = getattr(bench, row)()
                    log(f"row {row} done in {now() - t0:.1f}s")
            finally:
                bench.close()
                meta["start_failures"] = bench.start_failures
            meta["leftovers"] = cd.leftovers()
        harness.unmount_all(tmp)
    meta["loadavg_end"] = loadavg()

    checks = budget(rows)
    tbl = table(rows, checks, meta)
    budget_lines = [f"{'PASS' if c['pass'] else 'MISS'}  {c['line']}: {c['value']}" for c in checks]
    note_lines = notes(rows, meta)
    print(tbl)
    print()
    print("\n".join(budget_lines))
    print()
    print("\n".join(f"- {n}" for n in note_lines))
    if meta["leftovers"]:
        print("LEFTOVERS after the run:", *meta["leftovers"], sep="\n  ")

    a.results.mkdir(parents=True, exist_ok=True)
    kind = "quick run" if a.quick else "full run"
    if len(a.rows) != len(ROWS):
        kind += f", rows {', '.join(a.rows)} only"
    rev = meta["shim_version"].partition("Revision:")[2].split()[:1] or ["?"]
    md = [f"# Shim benchmark ({kind}, {meta['date']}, shim revision {rev[0]}, "
          f"git HEAD {meta['git']})", "", tbl, "",
          "## Budget", "", *[f"- {b}" for b in budget_lines], "", "## Notes", "",
          *[f"- {n}" for n in note_lines]]
    bd = breakdown_text(rows)
    if bd:
        md += ["", "## Where one shim's RSS sits (/proc/PID/smaps)", "", *bd]
    if meta["leftovers"]:
        md += ["", "## Left behind after the run", "", *[f"- {x}" for x in meta["leftovers"]]]
    (a.results / "latest.md").write_text("\n".join(md) + "\n")
    (a.results / "latest.json").write_text(
        json.dumps({"meta": meta, "budget": checks, "rows": rows}, indent=1) + "\n")
    write_plot_data(rows, a.results)
    log(f"wrote {a.results / 'latest.md'} and latest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
