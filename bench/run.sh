#!/usr/bin/env bash
# Build the shim (Release), run the benchmark against a private containerd, draw the plots.
#   bench/run.sh [--quick] [--only ROW[,ROW]] [--idle-seconds S]   (flags go to bench/run.py)
# Environment: BUILD_DIR (default build-bench, a Release tree of its own so that other
# build trees keep their build type), PYTHON (default /usr/bin/python3), RESULTS (default
# bench/results), and STACK / CONTAINERD_DIR / RUNSC for the containerd and runsc to measure
# (README "Stacks"; default the system's). Needs root (containerd, runsc, mounts).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build-bench}
PYTHON=${PYTHON:-/usr/bin/python3}
RESULTS=${RESULTS:-bench/results}

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >&2
cmake --build "$BUILD_DIR" -j"$(nproc)" --target containerd-shim-runsc-v1 >&2

export SHIM_BINARY="$(realpath "$BUILD_DIR")/src/shim/containerd-shim-runsc-v1"
export BENCH_BUILD_TYPE=Release
# --exec-paths: the exec-paths bench instead (bench/exec_paths.py, bench/README.md).
if [[ ${1:-} == --exec-paths ]]; then
  shift
  exec "$PYTHON" bench/exec_paths.py --results "$RESULTS" "$@"
fi
"$PYTHON" bench/run.py --results "$RESULTS" "$@"

# Plots of what this run measured (plot.gp skips a missing .dat; old pictures go first).
rm -f "$RESULTS/memory.png" "$RESULTS/latency.png"
if command -v gnuplot >/dev/null; then
  gnuplot -e "resdir='$RESULTS'" bench/plot.gp
  ls "$RESULTS"/*.png 2>/dev/null | sed 's/^/plot: /' >&2 || true
else
  echo "gnuplot not found: no plots" >&2
fi
