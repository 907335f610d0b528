#!/usr/bin/env bash
# THE test command: dependencies, build, unit tests (ctest), integration tests
# (pytest against a private containerd). Exits non-zero if anything fails.
#   scripts/test.sh [cmake configure args...]       (BUILD_DIR as in build.sh)
#   PYTEST_ARGS="-k foundation -x" scripts/test.sh  (extra pytest arguments)
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's python3-pytest lives in the system interpreter; a python3 earlier on
# PATH (pyenv, venv) may not have it.
PYTHON=${PYTHON:-/usr/bin/python3}
BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR

if [[ $(id -u) -ne 0 ]]; then
  echo "test.sh: the integration tests run containerd and runsc: run as root" >&2
  exit 1
fi

scripts/install-deps.sh
scripts/build.sh "$@"

status=0
echo "== unit tests (ctest)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)" --timeout 300 || status=1

echo "== integration tests (pytest)"
export SHIM_BINARY="$(realpath -m "$BUILD_DIR")/src/shim/containerd-shim-runsc-v1"
# SIGINT on timeout, so pytest's fixtures still stop containerd and clean up.
# shellcheck disable=SC2086  # PYTEST_ARGS is a list of words
timeout -s INT -k 60 2400 "$PYTHON" -m pytest -v -p no:cacheprovider \
  ${PYTEST_ARGS:-} tests/integration || status=1

exit "$status"
