#!/usr/bin/env bash
# THE test command: dependencies, build, unit tests (ctest), the .deb, integration tests
# (pytest against a private containerd, and its CRI plugin for pods), then those again with
# the shim built with the sanitizers and on the newer containerd/runsc stacks. Exits non-zero
# if anything fails.
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

# The same unit tests under AddressSanitizer and UndefinedBehaviorSanitizer, and bounded
# libFuzzer runs over the ttrpc frame and request decoders and over the server and Task
# service themselves (fuzz_task_server; clang). SKIP_SANITIZERS=1 and SKIP_FUZZ=1 leave
# them out of a quick local run.
if [[ -z ${SKIP_SANITIZERS:-} ]]; then
  echo "== unit tests under ASan+UBSan"
  BUILD_DIR="$BUILD_DIR-asan" scripts/build.sh -DSHIM_SANITIZE=ON
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --test-dir "$BUILD_DIR-asan" --output-on-failure -j"$(nproc)" --timeout 600 || status=1
fi
if [[ -z ${SKIP_FUZZ:-} ]]; then
  echo "== fuzzing (bounded)"
  CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR-fuzz" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DSHIM_FUZZ=ON
  cmake --build "$BUILD_DIR-fuzz" -j"$(nproc)" --target fuzz_ttrpc_frame fuzz_task_requests \
    fuzz_task_server
  ctest --test-dir "$BUILD_DIR-fuzz" --output-on-failure -R '^fuzz_' --timeout 300 || status=1
fi

# The .deb, which tests/integration/test_package.py unpacks and runs a container with.
echo "== Debian package (scripts/package.sh)"
SHIM_DEB=$(scripts/package.sh "$@") || status=1
export SHIM_DEB

echo "== integration tests (pytest)"
export SHIM_BINARY="$(realpath -m "$BUILD_DIR")/src/shim/containerd-shim-runsc-v1"
# SIGINT on timeout, so pytest's fixtures still stop containerd and clean up.
# shellcheck disable=SC2086  # PYTEST_ARGS is a list of words
timeout -s INT -k 60 2400 "$PYTHON" -m pytest -v -p no:cacheprovider \
  ${PYTEST_ARGS:-} tests/integration tests/cri || status=1

# The shim binary itself under ASan, LSan and UBSan (the sanitized unit tests' build above made
# it): containerd starts it through the whole integration and CRI suites, with a short soak.
# Any sanitizer report fails the stage: the shims write them to $BUILD_DIR-asan/sanitizer-
# reports, beside the containerd log of the instance that saw one (see
# tests/integration/sanitizer_reports.py). What measures the shim's own memory or wake-ups
# is the normal build's, in the stage above: the memory budget is left out here, and the
# soak's and the abandoned Waits' RSS checks are skipped. Measured here: about 4 minutes.
if [[ -z ${SKIP_SANITIZERS:-} ]]; then
  echo "== integration tests with the ASan+UBSan shim"
  reports="$(realpath -m "$BUILD_DIR-asan")/sanitizer-reports"
  rm -rf "$reports"
  # shellcheck disable=SC2086
  SHIM_BINARY="$(realpath -m "$BUILD_DIR-asan")/src/shim/containerd-shim-runsc-v1" \
    SHIM_SANITIZER_LOG_DIR="$reports" SOAK_LIFECYCLES=20 SOAK_EXECS=50 \
    timeout -s INT -k 60 1200 "$PYTHON" -m pytest -v -p no:cacheprovider ${PYTEST_ARGS:-} \
    --ignore=tests/integration/test_memory_budget.py \
    --deselect tests/integration/test_resilience.py::test_no_busy_retry_while_containerd_down \
    tests/integration tests/cri || status=1
  if compgen -G "$reports/*san.*" >/dev/null; then
    echo "sanitizer reports (in $reports):"
    cat "$reports"/*san.*
    status=1
  fi
fi

# The same suites on the newer stacks (README "Stacks": trixie's containerd 1.7 and runsc
# 20240729, sid's containerd 2.1 with that runsc), with a shorter soak: measured here, a stack
# takes about 2.5 min without the soak and 0.5 min for this soak, where the full soak alone
# takes about 10 min. SKIP_STACKS=1 leaves them out, STACKS="sid" picks.
if [[ -z ${SKIP_STACKS:-} ]]; then
  for stack in ${STACKS:-trixie sid}; do
    echo "== integration tests on stack $stack"
    # shellcheck disable=SC2086
    STACK=$stack SOAK_LIFECYCLES=${STACK_SOAK_LIFECYCLES:-100} SOAK_EXECS=${STACK_SOAK_EXECS:-200} \
      timeout -s INT -k 60 1200 "$PYTHON" -m pytest -v -p no:cacheprovider \
      ${PYTEST_ARGS:-} tests/integration tests/cri || status=1
  done
fi

exit "$status"
