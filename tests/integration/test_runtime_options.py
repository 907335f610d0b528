"""runc's option types (issue 11): containerd's client sends containerd.linux.runc.CreateOptions
to runtimes it does not know, and runc setups carry containerd.runc.v1.Options. ctr sends
neither, so each test starts a shim by hand (hand_shim.py) and speaks ttrpc to it.

Without runtimeoptions there is no TOML path in the request: the shim reads the default
/etc/containerd/runsc.toml, which the `default_toml` fixture (conftest.py) provides.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import harness
from hand_shim import (HandStartedShim, any_message, oci_spec, runc_create_options,
                       runc_v1_options)
from tasks import unique, wait_for
from ttrpc_client import INVALID_ARGUMENT, OK, field_bytes

CGROUP_ROOT = Path("/sys/fs/cgroup")


def spec_for(cd, cid, args):
    return oci_spec(cd.rootfs, args, f"/{cd.ns}/{cid}")


@pytest.fixture
def userns_rootfs():
    """A rootfs owned by the user namespace's root (uid 1000, gid 2000 outside), on a path it
    can traverse: what containerd's WithRemappedSnapshot gives TestUserNamespaces."""
    top = Path(tempfile.mkdtemp(prefix="shimtest-userns-"))
    top.chmod(0o711)
    rootfs = harness.build_busybox_rootfs(top / "rootfs")
    subprocess.run(["chown", "-R", "-h", "1000:2000", str(rootfs)], check=True)
    yield rootfs
    shutil.rmtree(top)


def userns_spec(cd, cid, rootfs, args):
    """A container in a user namespace (root inside is uid 1000 / gid 2000 outside), as in
    containerd's TestUserNamespaces."""
    spec = oci_spec(rootfs, args, f"/{cd.ns}/{cid}")
    spec["linux"]["namespaces"].append({"type": "user"})
    spec["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 1000, "size": 10000}]
    spec["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 2000, "size": 10000}]
    return spec


def test_create_options_io_owner_user_namespace(cd, tmp_path, default_toml, userns_rootfs):
    """IoUid/IoGid with a user-namespace container: accepted, output and exit code come back.
    (The shim hands runsc pipes owned by IoUid/IoGid; runsc then gives the sandbox's stdio to
    its own sandbox user, 65534, itself: the unit test ProcessIo.ChildEndsBelongToTheIoOwner
    checks the shim's part.)"""
    cid = unique(cd, "ioown")
    out = tmp_path / "out"
    out.touch()
    spec = userns_spec(cd, cid, userns_rootfs, ["sh", "-c", "echo hello from $(id -u); exit 7"])
    with HandStartedShim(cd, cid, spec) as shim:
        code, msg, _ = shim.create(runc_create_options(io_uid=1000, io_gid=2000),
                                   stdout=out, stderr=out)
        assert code == OK, msg + shim.log_text()
        code, msg, _ = shim.start()
        assert code == OK, msg
        assert shim.wait()[::2] == (OK, 7)
        assert out.read_text() == "hello from 0\n"


def test_create_options_shim_cgroup_and_oom_score(cd, default_toml):
    """ShimCgroup (on `start`'s stdin, as containerd writes it): the daemon joins that cgroup;
    its oom_score_adj is containerd's plus one, as with runc's shim (TestShimInCgroup,
    TestShimOOMScore)."""
    cid = unique(cd, "shimcg")
    group = f"/shimtest-{cd.token}/shim"
    made = []
    for controller in ("memory", "cpu", "pids"):
        d = CGROUP_ROOT / controller / group.lstrip("/")
        d.mkdir(parents=True, exist_ok=True)
        made.append(d)
    try:
        options = runc_create_options(shim_cgroup=group)
        with HandStartedShim(cd, cid, spec_for(cd, cid, ["sleep", "30"]), stdin=options) as shim:
            assert shim.started.returncode == 0, shim.started
            for d in made:
                procs = (d / "cgroup.procs").read_text().split()
                assert str(shim.pid) in procs, (d, procs)
            containerd_score = int(Path(f"/proc/{cd.proc.pid}/oom_score_adj").read_text())
            shim_score = int(Path(f"/proc/{shim.pid}/oom_score_adj").read_text())
            assert shim_score == min(containerd_score + 1, 1000), (containerd_score, shim_score)
    finally:
        # The shim is gone (Shutdown): its cgroups can go too.
        assert wait_for(lambda: all(not (d / "cgroup.procs").read_text().strip()
                                    for d in made), 10)
        for d in made:
            d.rmdir()
            d.parent.rmdir()


def test_shim_cgroup_that_does_not_exist_fails_start(cd, default_toml):
    cid = unique(cd, "nocg")
    options = runc_create_options(shim_cgroup=f"/shimtest-{cd.token}/absent")
    with HandStartedShim(cd, cid, spec_for(cd, cid, ["true"]), stdin=options) as shim:
        assert shim.started.returncode != 0, shim.started
        assert b"absent" in shim.started.stderr, shim.started.stderr
    assert not cd.leftovers(), cd.leftovers()


def test_runc_v1_options_binary_and_root(cd, tmp_path):
    """BinaryName and Root of containerd.runc.v1.Options pick the runsc binary and its state
    root. The binary is a wrapper that records its calls and adds --network=none."""
    cid = unique(cd, "v1opts")
    calls = tmp_path / "calls"
    wrapper = tmp_path / "my-runsc"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n'
                       f'exec {harness.STACK.runsc} --network=none "$@"\n')
    wrapper.chmod(0o755)
    root = tmp_path / "runsc-root"
    with HandStartedShim(cd, cid, spec_for(cd, cid, ["sleep", "30"])) as shim:
        code, msg, _ = shim.create(runc_v1_options(binary_name=str(wrapper), root=str(root)))
        assert code == OK, msg + shim.log_text()
        code, msg, _ = shim.start()
        assert code == OK, msg
        assert (root / cd.ns / cid).is_dir(), list(root.rglob("*"))
        assert any(f" create " in f" {line} " for line in calls.read_text().splitlines())
        assert any(line.split()[-1] == cid and " start " in f" {line} "
                   for line in calls.read_text().splitlines()), calls.read_text()
    # Delete removed the sandbox's runsc root under the given root.
    assert not (root / cd.ns / cid).exists()


def test_unknown_options_type_is_invalid_argument(cd):
    cid = unique(cd, "badopts")
    with HandStartedShim(cd, cid, spec_for(cd, cid, ["true"])) as shim:
        code, msg, _ = shim.create(any_message("example.com/Unknown", b"\x08\x01"))
        assert code == INVALID_ARGUMENT, msg
        assert "example.com/Unknown" in msg, msg
        code, _, _ = shim.call("State", field_bytes(1, cid))
        assert code != OK  # nothing was created
