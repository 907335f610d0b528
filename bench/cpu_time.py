"""CPU-time readers for bench/exec_paths.py: cgroups, threads, the node.

Why cgroups: a `runsc exec` lives a few tens of milliseconds, and what it used shows in its
parent only as cutime/cstime ticks (10 ms each) once the shim reaps it. A cgroup counts, in
nanoseconds, every process that ran in it, exited ones included. So the bench moves a shim
(or the bare worker) into a cgroup of its own once its sandbox is up: the sandbox and gofer
stay where runsc put them, and every child the shim starts later (a `runsc exec`) is born
in the shim's cgroup and counted there.
"""

import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
V2 = (CGROUP_ROOT / "cgroup.controllers").exists()
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _read(path):
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def hierarchy():
    """Where CPU usage is counted: cgroup v1's cpuacct hierarchy, or the v2 root."""
    return CGROUP_ROOT if V2 else CGROUP_ROOT / "cpuacct"


def cgroup_of(pid):
    """The cgroup directory that counts pid's CPU time, or None."""
    for line in _read(f"/proc/{pid}/cgroup").splitlines():
        _, names, path = line.split(":", 2)
        if (V2 and names == "") or (not V2 and "cpuacct" in names.split(",")):
            return hierarchy() / path.lstrip("/")
    return None


def cgroup_cpu_ns(directory):
    """Nanoseconds of CPU used by everything that ran in the cgroup (and below it)."""
    if directory is None:
        return 0
    if V2:
        for line in _read(Path(directory) / "cpu.stat").splitlines():
            if line.startswith("usage_usec "):
                return int(line.split()[1]) * 1000
        return 0
    text = _read(Path(directory) / "cpuacct.usage").strip()
    return int(text) if text else 0


class CpuCgroup:
    """A cgroup of ours that counts the CPU of the processes moved into it and of their
    later children. Its name ends in the harness token, so the harness removes it."""

    def __init__(self, name):
        self.dir = hierarchy() / name
        self.dir.mkdir(exist_ok=True)
        self.pids = []

    def add(self, pid):
        (self.dir / "cgroup.procs").write_text(f"{pid}\n")
        self.pids.append(pid)

    def cpu_ns(self):
        return cgroup_cpu_ns(self.dir)

    def remove(self):
        """rmdir; a process still inside (it should have exited) keeps it, and the
        harness's cleanup tries again."""
        try:
            self.dir.rmdir()
        except OSError:
            pass


def threads_cpu_ns(pid):
    """CPU nanoseconds of pid's live threads (/proc/PID/task/*/schedstat): exact, but
    threads that exited are lost, so only for long-lived processes (containerd, the bench's
    own worker)."""
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tids:
        fields = _read(f"/proc/{pid}/task/{tid}/schedstat").split()
        if fields:
            total += int(fields[0])
    return total


def ticks(pid):
    """(utime+stime, cutime+cstime) of pid in clock ticks (1/CLK_TCK s)."""
    fields = _read(f"/proc/{pid}/stat").rpartition(")")[2].split()
    if len(fields) < 15:
        return 0, 0
    return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def node_busy_ns():
    """CPU time the whole node spent not idle (every CPU; /proc/stat's first line)."""
    fields = [int(x) for x in _read("/proc/stat").splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    busy = sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal
    return busy * 1_000_000_000 // CLK_TCK
