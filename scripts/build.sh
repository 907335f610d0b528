#!/usr/bin/env bash
# Configure and build the shim, its unit tests and tools.
#   scripts/build.sh [cmake configure args...]
#   BUILD_DIR=build-asan scripts/build.sh -DSHIM_SANITIZE=ON
# BUILD_DIR (default build/) and BUILD_TYPE (default RelWithDebInfo: optimised,
# with symbols for gdb and perf) are read from the environment; arguments go to
# the configure step after ours, so they win.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@"
cmake --build "$BUILD_DIR" -j"$(nproc)"
