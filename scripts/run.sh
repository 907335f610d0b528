#!/usr/bin/env bash
# THE main command: install, build, then run a container in gVisor through a
# private containerd and our shim (`echo hello from gVisor`, `uname -a`), print
# what it printed and tear everything down.
#   scripts/run.sh [--log] [--runtime io.containerd.runc.v2]
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-/usr/bin/python3}
BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR

scripts/install-deps.sh
scripts/build.sh >&2

export SHIM_BINARY="$(realpath -m "$BUILD_DIR")/src/shim/containerd-shim-runsc-v1"
exec "$PYTHON" tests/integration/harness.py demo "$@"
