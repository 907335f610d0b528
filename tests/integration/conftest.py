"""pytest fixtures for the integration tests: see harness.py for the machinery.

    rootfs      (session)  Path of a busybox rootfs, built once.
    shim_binary (session)  Path of the shim under test; FAILS the test if missing.
    containerd  (module)   a started harness.Containerd; on teardown asserts that
                           nothing leaked, then stops it.
    shim_toml   (module)   Path of the shim's TOML (network = "none").
    ns          (function) a namespace unique to the test.
    cd          (function) containerd bound to `ns`: cd.ctr(...), cd.run_container(...).
    default_toml (function) /etc/containerd/runsc.toml (network = "none") for shims that get
                           no TOML path (runc's option types carry none), removed afterwards.
"""

import fcntl
import os
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
# A sanitizer build of the shim: a report fails the test it appeared in, or the session.
from sanitizer_reports import (pytest_sessionfinish,  # noqa: E402,F401
                               sanitizer_reports_fail_the_test)


def pytest_report_header(config):
    return harness.STACK.describe()  # which containerd and runsc (stack.py: STACK, ...)


@pytest.fixture(scope="session")
def shim_binary():
    path = harness.shim_binary()
    # A missing binary is a failure, never a skip: CI must not go green without it.
    if not path.is_file():
        pytest.fail(f"shim binary not found: {path} (build it, or set SHIM_BINARY)")
    return path


@pytest.fixture(scope="session")
def rootfs():
    with tempfile.TemporaryDirectory(prefix="shimtest-rootfs-") as tmp:
        yield harness.build_busybox_rootfs(Path(tmp) / "rootfs")


@pytest.fixture(scope="module")
def containerd(shim_binary, rootfs):
    cd = harness.Containerd(shim=shim_binary, rootfs=rootfs)
    cd.start()
    try:
        yield cd
        # Every test's containers are gone by now (ctr run --rm): what remains leaked.
        leaks = cd.leftovers()
    finally:
        cd.stop()
    assert leaks == [], "leaked by the tests of this module:\n" + "\n".join(leaks)


@pytest.fixture(scope="module")
def shim_toml(containerd):
    return containerd.shim_toml


@pytest.fixture
def ns(containerd, request):
    return containerd.new_namespace(request.node.name)


@pytest.fixture
def cd(containerd, ns):
    return containerd.bound(ns)


@pytest.fixture
def default_toml():
    # Under the lock the shared conformance runner takes for the same file.
    path = Path("/etc/containerd/runsc.toml")
    with open("/tmp/ctrd-it.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert not path.exists(), f"{path} exists: these tests need it free"
        path.parent.mkdir(parents=True, exist_ok=True)
        harness.write_shim_toml(path)
        try:
            yield path
        finally:
            path.unlink()
