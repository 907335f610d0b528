"""pytest fixtures for the CRI tests (pods through containerd's CRI plugin).

    image_archives (session)  {ref: path} of the pause and busybox docker archives.
    shim_binary    (session)  Path of our shim; FAILS (never skips) a test that needs it
                              when missing. The runc tests do not need it.
    env            (function) a started cri_env.CriContainerd, private to the test, with
                              the images imported. On teardown it removes whatever pods
                              the test left (best effort), saves containerd's log and the
                              bundles' config.json/log.json under $CRI_ARTIFACTS (default
                              /tmp/cri-test-artifacts/<test>) when the test failed, and
                              stops containerd.

A containerd per test costs ~0.3 s to start and ~1.5 s to import the two images; it
keeps a failed runsc test (hung shim, stuck sandbox) from spoiling the next one.
Set CRI_KEEP_ARTIFACTS=1 to save artifacts for passing tests too, and CRI_RUNSC_DEBUG=1
for runsc's debug logs of every runsc command (kept even when containerd removes the
bundle of a failed create), saved with the artifacts.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import cri_env  # noqa: E402
import harness  # noqa: E402
import images  # noqa: E402
# A sanitizer build of the shim: a report fails the test it appeared in, or the session.
from sanitizer_reports import (pytest_sessionfinish,  # noqa: E402,F401
                               sanitizer_reports_fail_the_test)


def pytest_report_header(config):
    return harness.STACK.describe()  # which containerd and runsc (stack.py: STACK, ...)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def pytest_terminal_summary(terminalreporter):
    if not cri_env.TIMINGS:
        return
    terminalreporter.section("CRI timings (seconds)")
    for test_id, steps in cri_env.TIMINGS:
        total = sum(s for name, s in steps if not name.endswith(" wall"))
        line = "  ".join(f"{name} {s:.3f}" for name, s in steps)
        terminalreporter.write_line(f"{test_id}: sum of steps {total:.2f}\n    {line}")


@pytest.fixture(scope="session")
def image_archives():
    with tempfile.TemporaryDirectory(prefix="cri-images-") as tmp:
        yield images.build_images(tmp)


@pytest.fixture(scope="session")
def shim_binary():
    return harness.shim_binary()


def _needs_our_shim(request):
    callspec = getattr(request.node, "callspec", None)
    params = callspec.params.values() if callspec else ()
    return any("runsc" in str(v) for v in params)


@pytest.fixture
def env(request, image_archives, shim_binary):
    shim = shim_binary
    if not shim.is_file():
        if _needs_our_shim(request):
            pytest.fail(f"shim binary not found: {shim} (build it, or set SHIM_BINARY)")
        shim = False  # the runc tests run without it
    e = cri_env.CriContainerd(image_archives.values(), shim=shim)
    e.start()
    try:
        yield e
    finally:
        failed = any(getattr(request.node, f"rep_{w}", None) is not None
                     and getattr(request.node, f"rep_{w}").failed for w in ("setup", "call"))
        try:
            if failed or os.environ.get("CRI_KEEP_ARTIFACTS"):
                dest = Path(os.environ.get("CRI_ARTIFACTS", "/tmp/cri-test-artifacts"))
                dest = dest / request.node.name.replace("/", "_")
                shutil.rmtree(dest, ignore_errors=True)
                e.save_artifacts(dest)
                print(f"\nartifacts of {request.node.name}: {dest}")
            _remove_everything(e)
        finally:
            e.stop()


def _remove_everything(e):
    """Stop and remove every pod and container, best effort with short deadlines (a
    test that failed half-way leaves them; the ones that passed left nothing)."""
    api = e.cri.api
    rt = e.cri.runtime
    try:
        ctrs = rt.ListContainers(api.ListContainersRequest(), timeout=20).containers
        pods = rt.ListPodSandbox(api.ListPodSandboxRequest(), timeout=20).items
    except Exception:  # noqa: BLE001
        return
    # Ids the test never saw (a RunPodSandbox that failed half-way still lists its pod):
    # tracked, so stop() finds their shim sockets and CNI cache files too.
    for item in list(ctrs) + list(pods):
        if item.id not in e.ids:
            e.track(item.id, "?")
    for c in ctrs:
        for call, req in ((rt.StopContainer, api.StopContainerRequest(container_id=c.id)),
                          (rt.RemoveContainer, api.RemoveContainerRequest(container_id=c.id))):
            try:
                call(req, timeout=20)
            except Exception:  # noqa: BLE001
                pass
    for p in pods:
        for call, req in ((rt.StopPodSandbox, api.StopPodSandboxRequest(pod_sandbox_id=p.id)),
                          (rt.RemovePodSandbox,
                           api.RemovePodSandboxRequest(pod_sandbox_id=p.id))):
            try:
                call(req, timeout=30)
            except Exception:  # noqa: BLE001
                pass
