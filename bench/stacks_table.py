#!/usr/bin/python3
"""One markdown table with a column per stack, from what bench/stacks.sh measured:

    bench/stacks_table.py RESULTS/stacks bookworm trixie sid > RESULTS/stacks.md

Reads <dir>/<stack>/latest.json (bench/run.py) and pods.json (bench/pods.py); a stack or a
row that was not measured shows as "not measured". Every figure is a median with its spread
(min–max, or p90 where the source keeps only that), as the per-stack files give them.
"""

import json
import sys
from pathlib import Path


def load(path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def mb(kb):
    return f"{kb / 1024:.2f} MB" if kb >= 1024 else f"{kb:.0f} kB"


def ms_spread(s):
    return f"{s['median']:.0f} ms ({s['min']:.0f}–{s['max']:.0f})"


def bench_cells(b):
    """{row label: cell text} from one stack's latest.json."""
    cells = {}
    rows = b["rows"]
    m = rows.get("memory")
    if m:
        o = m["ours"]
        cells["memory per shim, RSS (1 running)"] = mb(o["1"]["rss_kb_per_shim"])
        cells["memory per container, PSS of the shims / 20 running"] = mb(
            o["20"]["pss_kb_total"] / 20)
        cells["helper processes per container"] = f"{o['20']['helpers_per_container']:g}"
    r = rows.get("run")
    if r:
        cells["`ctr run --rm /bin/true`, median (min–max)"] = ms_spread(r["ours"])
        cells["bare runsc lifecycle, median (min–max)"] = ms_spread(r["bare"])
        cells["ratio to bare (goal ≤ 1.1×)"] = f"{r['ratio']:.2f}×"
        if r.get("runc"):
            cells["the same with the Go runc shim / bare runc"] = (
                f"{r['runc']['median']:.0f} / {r['bare_runc']['median']:.0f} ms "
                f"({r['runc_ratio']:.2f}×)")
        tl = r.get("ours_timeline")
        if tl:
            t = tl["median_ms"]
            cells["of ours: ctr+containerd before the shim serves / after the delete"] = (
                f"{t['front']:.0f} / {t['tail']:.0f} ms")
            cells["of ours: runsc create + start + delete after the exit"] = (
                f"{t['create']:.0f} + {t['start']:.0f} + {t['delete']:.0f} ms")
    e = rows.get("exec")
    if e:
        cells["`ctr task exec /bin/true`, median (min–max)"] = ms_spread(e["ours"])
        cells["bare `runsc exec`, median (min–max)"] = ms_spread(e["bare"])
    s = rows.get("stdout")
    if s:
        cells[f"stdout through ctr, {s['bytes'] >> 20} MiB, first byte → EOF, median "
              f"(min–max) of {s.get('runs', 1)}"] = (
            f"{s['ours_mib_s']:.0f} MiB/s ({s.get('ours_mib_s_min', 0):.0f}–"
            f"{s.get('ours_mib_s_max', 0):.0f})"
            + ("" if s["all_bytes_arrived"] else ", bytes lost"))
        cells["bare `runsc run` into a pipe, same"] = (
            f"{s['bare_mib_s']:.0f} MiB/s ({s.get('bare_mib_s_min', 0):.0f}–"
            f"{s.get('bare_mib_s_max', 0):.0f})")
    return cells


def pods_cells(p):
    cells = {}
    for rt in p.get("runtimes", []):
        if rt.get("runtime") != "runsc":
            continue
        steps = rt.get("start_steps", {})
        n = rt.get("started", 0)
        cells[f"CRI pod start: {p['meta']['pods']} pods, {p['meta']['parallel']} in parallel, "
              "wall until all running"] = f"{rt['up']['wall_s']:.1f} s ({n} started)"
        for step in ("RunPodSandbox", "StartContainer"):
            if step in steps:
                s = steps[step]
                cells[f"CRI {step} per pod, median (p90)"] = (
                    f"{s['median']:.0f} ms ({s['p90']:.0f})")
        mem = rt.get("memory", {})
        if "machinery_pss_kb_per_pod" in mem:
            cells["CRI: shim + helpers PSS per pod"] = mb(mem["machinery_pss_kb_per_pod"])
    return cells


def main(argv):
    base, stacks = Path(argv[1]), argv[2:]
    columns, metas = {}, {}
    for stack in stacks:
        cells = {}
        b = load(base / stack / "latest.json")
        if b:
            cells.update(bench_cells(b))
            metas[stack] = b["meta"]
        p = load(base / stack / "pods.json")
        if p:
            cells.update(pods_cells(p))
        columns[stack] = cells
    labels = []
    for cells in columns.values():
        labels += [k for k in cells if k not in labels]
    out = ["# The benchmark per stack", "",
           "`bench/stacks.sh`: bench/run.py (memory, run, exec, stdout) and bench/pods.py "
           "(our shim) on each stack, one after the other. The per-stack files beside this "
           "one (stacks/<stack>/) have every row, its notes and the host's load.", ""]
    head = ["", *(f"{s}" for s in stacks)]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    versions = []
    for s in stacks:
        m = metas.get(s)
        versions.append(f"{m['containerd'].split()[2]}, runsc {m['runsc'].split()[-1]}"
                        if m else "not measured")
    out.append("| containerd, runsc | " + " | ".join(versions) + " |")
    for label in labels:
        out.append("| " + label + " | " + " | ".join(
            columns[s].get(label, "not measured") for s in stacks) + " |")
    out.append("")
    for s in stacks:
        m = metas.get(s)
        if m:
            out.append(f"- {s}: {m['date']}, shim {m['shim_version']} ({m['build_type']}), "
                       f"load {' '.join(m['loadavg_start'])} at start, "
                       f"{' '.join(m['loadavg_end'])} at end.")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
