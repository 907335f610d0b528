#!/usr/bin/env bash
# The benchmark once per stack (README "Stacks"), then one table with a column per stack:
#   bench/stacks.sh [--quick]
# For each of $STACKS (default: bookworm trixie sid): bench/run.py's memory, run, exec and
# stdout rows into $RESULTS/stacks/<stack>/latest.{md,json}, and bench/pods.py's pod start
# (our shim only, $PODS pods, default 10) into $RESULTS/stacks/<stack>/pods.{md,json};
# bench/stacks_table.py then writes $RESULTS/stacks.md. The stacks run one after the other
# in one invocation, so that a column's numbers share the host's conditions as far as a
# shared host allows (each file's header gives its load). Environment as bench/run.sh
# (BUILD_DIR, PYTHON, RESULTS); needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build-bench}
PYTHON=${PYTHON:-/usr/bin/python3}
RESULTS=${RESULTS:-bench/results}
STACKS=${STACKS:-bookworm trixie sid}
PODS=${PODS:-10}

scripts/install-stacks.sh >&2
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >&2
cmake --build "$BUILD_DIR" -j"$(nproc)" --target containerd-shim-runsc-v1 >&2
export SHIM_BINARY="$(realpath "$BUILD_DIR")/src/shim/containerd-shim-runsc-v1"
export BENCH_BUILD_TYPE=Release

for stack in $STACKS; do
  out="$RESULTS/stacks/$stack"
  mkdir -p "$out"
  echo "== bench on stack $stack" >&2
  STACK=$stack "$PYTHON" bench/run.py --results "$out" --only memory,run,exec,stdout "$@"
  STACK=$stack "$PYTHON" bench/pods.py --results "$out" --pods "$PODS" --runtimes runsc
done
"$PYTHON" bench/stacks_table.py "$RESULTS/stacks" $STACKS > "$RESULTS/stacks.md"
echo "wrote $RESULTS/stacks.md" >&2
