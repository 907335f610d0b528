"""A shim built with -DSHIM_SANITIZE=ON (ASan, LSan, UBSan) under the integration tests.

The daemon's stderr is /dev/null, so with SHIM_SANITIZER_LOG_DIR set every shim writes its
reports to files there instead (ASAN_OPTIONS/UBSAN_OPTIONS log_path, which containerd passes
on: it gives its shims its own environment). Every report is fatal to the process that made
it (halt_on_error; exit code 66, no core dump), and fails the test during which it appeared;
one that appears later (a shim exiting after its test ended) fails the session. The
containerd log of an instance that saw a report is kept beside it, since it carries the
shim's own log lines.

    SHIM_SANITIZER_LOG_DIR=/tmp/reports SHIM_BINARY=build-asan/src/shim/... pytest ...
"""

import os
import shutil
from pathlib import Path

try:  # harness.py (and so this) also serves scripts/run.sh and bench/, without pytest
    import pytest
except ImportError:
    pytest = None

LOG_DIR = Path(os.environ["SHIM_SANITIZER_LOG_DIR"]) if os.environ.get(
    "SHIM_SANITIZER_LOG_DIR") else None
EXIT_CODE = 66  # what a process that made a report exits with
# The shim under test is a sanitizer build: its RSS is then mostly ASan's (shadow memory, and a
# quarantine that keeps freed memory on purpose), so the memory checks are the normal build's.
ACTIVE = LOG_DIR is not None

_reported = set()  # reports already shown (and failed on)


def environment():
    """What to add to the environment of containerd (and of a shim started by hand)."""
    if LOG_DIR is None:
        return {}
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    common = f"halt_on_error=1:abort_on_error=0:exitcode={EXIT_CODE}:disable_coredump=1"
    return {
        # detect_leaks: the daemon checks for leaks before it _exits (shim/daemon.cc).
        "ASAN_OPTIONS": f"{common}:detect_leaks=1:log_path={LOG_DIR}/asan",
        "UBSAN_OPTIONS": f"{common}:print_stacktrace=1:log_path={LOG_DIR}/ubsan",
    }


def reports():
    """{path: text} of every report file so far."""
    if LOG_DIR is None or not LOG_DIR.is_dir():
        return {}
    out = {}
    for path in sorted(LOG_DIR.iterdir()):
        if path.name.startswith(("asan.", "ubsan.")):
            out[path] = path.read_text(errors="replace")
    return out


def new_reports():
    """Reports not shown before; marks them shown."""
    fresh = {p: t for p, t in reports().items() if p not in _reported}
    _reported.update(fresh)
    return fresh


def keep_log_if_reported(log_path, token, since):
    """Copies a containerd log to LOG_DIR when a report was written after `since` (a
    time.time()), so the report can be read beside the shim's own log lines."""
    if LOG_DIR is None or not Path(log_path).exists():
        return
    if any(p.stat().st_mtime >= since for p in reports()):
        shutil.copy(log_path, LOG_DIR / f"containerd-{token}.log")


def describe(found):
    return "\n".join(f"--- {path} ---\n{text}" for path, text in found.items())


# -- pytest glue: conftest.py files import these two names -------------------------------------


def _fail_the_test():
    yield
    found = new_reports() if LOG_DIR is not None else {}
    if found:
        pytest.fail(f"sanitizer reports while this test ran (in {LOG_DIR}):\n" + describe(found),
                    pytrace=False)


if pytest is not None:
    sanitizer_reports_fail_the_test = pytest.fixture(autouse=True)(_fail_the_test)


def pytest_sessionfinish(session, exitstatus):
    if LOG_DIR is None:
        return
    found = new_reports()
    if found:
        print(f"\nsanitizer reports after the last test ended (in {LOG_DIR}):\n"
              + describe(found))
        session.exitstatus = 1
