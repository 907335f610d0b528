"""The budget users count (issue 6) and the shim's hygiene (issue 5): one idle shim stays
under 2 MB RSS, runs no helper process beside the sandbox, and leaks none of its fds into the
sandbox."""

import os
import time
from pathlib import Path

from tasks import kill_and_remove, start_detached, unique

RSS_BUDGET_KB = 2048


def smaps_rollup(pid):
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        values[key] = int(value.split()[0])
    return values


def children(pid):
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out += [int(p) for p in text]
    return out


def cmdline(pid):
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def fd_targets(pid):
    out = {}
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            out[int(fd.name)] = os.readlink(fd)
        except OSError:
            pass
    return out


def test_idle_shim_budget_and_hygiene(cd):
    cid = unique(cd, "budget")
    start_detached(cd, cid)
    try:
        bundle = Path(cd.state) / "io.containerd.runtime.v2.task" / cd.ns / cid
        shim = int((bundle / "shim.pid").read_text())
        time.sleep(2.5)  # idle: no call in flight (the shim trims itself after 1 s)

        rss = smaps_rollup(shim)["Rss"]
        print(f"idle shim: Rss {rss} kB, Pss {smaps_rollup(shim)['Pss']} kB")
        assert rss <= RSS_BUDGET_KB, f"idle shim RSS {rss} kB > {RSS_BUDGET_KB} kB"

        # The only children: runsc's sandbox and gofer (no `runsc wait`, no copier process).
        kids = [cmdline(p) for p in children(shim)]
        helpers = [k for k in kids if "runsc-sandbox" not in k and "runsc-gofer" not in k]
        assert helpers == [], kids
        assert any("runsc-sandbox" in k for k in kids), kids

        # Nothing the shim holds (its sockets, its log fifo) reaches the sandbox. (Every epoll or
        # signalfd reads "anon_inode:[...]" alike, so those cannot be told apart here; sockets
        # carry their inode.)
        ours = {t for t in fd_targets(shim).values()
                if t.startswith("socket:") or t.endswith("/log")}
        for kid in children(shim):
            leaked = ours & set(fd_targets(kid).values())
            assert not leaked, f"{cmdline(kid)[:60]} holds the shim's {leaked}"

        # The socket is the shim's alone.
        assert (os.stat(cd.socket_path(cid)).st_mode & 0o777) == 0o600
    finally:
        kill_and_remove(cd, cid)
