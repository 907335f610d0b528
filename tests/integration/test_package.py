"""The Debian package (scripts/package.sh; cmake/packaging.cmake says what goes in): its
control fields, the files it installs, and a container run by the shim it installs, with the
example configuration it ships.

The package is unpacked with `dpkg -x` into a scratch directory: the machine's dpkg database
never hears of it (checked). SHIM_DEB names the .deb to test (scripts/test.sh builds one with
scripts/package.sh); without it, cpack makes one from BUILD_DIR (default build/) in a
temporary directory.
"""

import gzip
import hashlib
import os
import re
import subprocess
import tempfile
import tomllib
from pathlib import Path

import pytest

import harness
from tasks import TASKS_DIR, assert_clean, diag, running, unique

PACKAGE = "containerd-shim-runsc"
SHIM_PATH = "usr/bin/containerd-shim-runsc-v1"
DOC_DIR = f"usr/share/doc/{PACKAGE}"
EXAMPLE = f"{DOC_DIR}/examples/runsc.toml"
DPKG_STATUS = Path("/var/lib/dpkg/status")
DPKG_INFO_LIST = Path(f"/var/lib/dpkg/info/{PACKAGE}.list")


def build_dir():
    d = Path(os.environ.get("BUILD_DIR") or "build")
    return d if d.is_absolute() else harness.REPO_ROOT / d


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, timeout=120, **kw)


def installed_in_dpkg():
    """Whether the machine's dpkg database knows the package, in the two places it would."""
    status = DPKG_STATUS.read_text(errors="replace")
    return (re.search(rf"^Package: {re.escape(PACKAGE)}$", status, re.M) is not None,
            DPKG_INFO_LIST.exists())


@pytest.fixture(scope="module")
def deb():
    if os.environ.get("SHIM_DEB"):
        path = Path(os.environ["SHIM_DEB"])
        if not path.is_file():
            pytest.fail(f"SHIM_DEB={path}: no such file (scripts/package.sh builds it)")
        yield path
        return
    config = build_dir() / "CPackConfig.cmake"
    if not config.is_file():
        pytest.fail(f"no {config}: configure the build (scripts/build.sh) or set SHIM_DEB")
    with tempfile.TemporaryDirectory(prefix="shimtest-cpack-") as out:
        run("cpack", "--config", str(config), "-G", "DEB", "-B", out)
        debs = list(Path(out).glob(f"{PACKAGE}_*.deb"))
        assert len(debs) == 1, debs
        yield debs[0]


@pytest.fixture(scope="module")
def root(deb):
    """The package unpacked into a scratch root; the dpkg database left as it was."""
    before = installed_in_dpkg()
    with tempfile.TemporaryDirectory(prefix="shimtest-deb-") as tmp:
        run("dpkg", "-x", str(deb), tmp)
        yield Path(tmp)
    assert installed_in_dpkg() == before, "the machine's dpkg database changed"


@pytest.fixture(scope="module")
def fields(deb):
    text = run("dpkg-deb", "-f", str(deb)).stdout.decode()
    out, key = {}, None
    for line in text.splitlines():
        if line.startswith(" ") and key:
            out[key] += "\n" + line[1:]
        else:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def shim_version(binary):
    """(Version, Revision) from `containerd-shim-runsc-v1 -v`."""
    out = run(str(binary), "-v").stdout.decode()
    version = re.search(r"^\s*Version: (\S+)$", out, re.M)
    revision = re.search(r"^\s*Revision: (\S+)$", out, re.M)
    assert version and revision, out
    return version.group(1), revision.group(1)


def depends(field):
    """{package: (op, version)} of a Depends field without alternatives."""
    out = {}
    for item in field.split(","):
        m = re.fullmatch(r"\s*([a-z0-9.+-]+)(?:\s*\((>=|<=|=|<<|>>)\s*(\S+)\))?\s*", item)
        assert m, f"unexpected Depends item {item!r}"
        out[m.group(1)] = (m.group(2), m.group(3))
    return out


def stack_versions():
    """{package: version} of the containerd and runsc under test, where known: the
    machine's packages, or the STAMP of an unpacked stack (scripts/install-stacks.sh)."""
    stamp = harness.stack.STACKS_PREFIX / harness.STACK.name / "STAMP"
    if os.environ.get("CONTAINERD_DIR") or os.environ.get("RUNSC"):
        return {}
    if harness.STACK.name == harness.stack.SYSTEM:
        r = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\n",
                            "containerd", "runsc"], capture_output=True, text=True)
        return dict(line.split() for line in r.stdout.splitlines() if line.strip())
    return {line.split()[0]: line.split()[1]
            for line in stamp.read_text().splitlines() if line.strip()}


def test_control_fields(deb, fields, root):
    assert fields["Package"] == PACKAGE
    arch = run("dpkg", "--print-architecture").stdout.decode().strip()
    assert fields["Architecture"] == arch
    assert (fields["Section"], fields["Priority"]) == ("admin", "optional")
    assert re.fullmatch(r"[^<>]+ <[^@<>\s]+@[^@<>\s]+>", fields["Maintainer"]), fields
    summary, _, long = fields["Description"].partition("\n")
    assert "gVisor" in summary and len(summary) <= 80, summary
    assert "io.containerd.runsc.v1" in long and "examples/runsc.toml" in long, long
    assert int(fields["Installed-Size"]) > 0
    assert "Homepage" not in fields, fields  # no host names in the package

    # The version says which shim is inside: the one whose -v it is.
    version, revision = shim_version(root / SHIM_PATH)
    if revision == "unknown":
        assert fields["Version"] == version, fields["Version"]
    else:
        assert re.fullmatch(rf"{re.escape(version)}(~git\d{{8}}\.{revision})?",
                            fields["Version"]), (fields["Version"], version, revision)
    assert deb.name == f"{PACKAGE}_{fields['Version']}_{arch}.deb"

    deps = depends(fields["Depends"])
    assert set(deps) == {"containerd", "runsc"}, deps
    assert deps["containerd"][0] == ">=" and deps["runsc"][0] == ">=", deps
    # What the tests run on satisfies what the package asks for.
    for package, have in stack_versions().items():
        op, want = deps[package]
        assert subprocess.run(["dpkg", "--compare-versions", have, "ge", want]).returncode == 0, (
            f"{package} {have} does not satisfy (>= {want})")

    # No maintainer scripts and no conffiles: unpacking is all an install does.
    control = run("sh", "-c", f"dpkg-deb --ctrl-tarfile '{deb}' | tar -t").stdout.decode()
    assert sorted(set(control.split()) - {"./"}) == ["./control", "./md5sums"], control


def test_installed_files(deb, root):
    listing = run("dpkg-deb", "-c", str(deb)).stdout.decode().splitlines()
    files, dirs = {}, set()
    for line in listing:
        mode, owner, _size, _date, _time, path = line.split(None, 5)
        assert owner == "root/root", line
        path = path.removeprefix("./").rstrip("/")
        if mode.startswith("d"):
            dirs.add(path)
        else:
            files[path] = mode
    docs = [f"{DOC_DIR}/README.md.gz"] + [
        f"{DOC_DIR}/{p.name}.gz" for p in sorted((harness.REPO_ROOT / "docs").glob("*.md"))]
    assert sorted(files) == sorted([SHIM_PATH, EXAMPLE, *docs]), sorted(files)
    assert files[SHIM_PATH] == "-rwxr-xr-x"
    assert all(files[p] == "-rw-r--r--" for p in [EXAMPLE, *docs]), files
    assert not any(d == "etc" or d.startswith("etc/") for d in dirs), dirs  # nothing in /etc

    # Exactly what the md5sums say was unpacked.
    for line in (run("sh", "-c", f"dpkg-deb --ctrl-tarfile '{deb}' | tar -xO ./md5sums")
                 .stdout.decode().splitlines()):
        digest, path = line.split(None, 1)
        assert hashlib.md5((root / path).read_bytes()).hexdigest() == digest, path

    # The static binary alone: no interpreter, no shared libraries, no debug sections.
    shim = root / SHIM_PATH
    program = run("readelf", "-lW", str(shim)).stdout.decode()
    assert "INTERP" not in program and "DYNAMIC" not in program, program
    sections = run("readelf", "-SW", str(shim)).stdout.decode()
    assert ".debug_" not in sections and ".symtab" not in sections, sections

    for doc in docs:
        text = gzip.decompress((root / doc).read_bytes()).decode()
        assert text.startswith("# "), doc
    readme = gzip.decompress((root / docs[0]).read_bytes()).decode()
    assert "## Packaging" in readme


def test_example_config(root):
    """What the shim would run with: the stack's runsc from PATH, network none."""
    config = tomllib.loads((root / EXAMPLE).read_text())
    assert set(config) <= {"binary_name", "root", "direct_exec", "runsc_config"}, config
    assert config.get("binary_name", "runsc") == "runsc"
    assert config["runsc_config"]["network"] == "none"


@pytest.fixture(scope="module")
def pkg_containerd(root, rootfs):
    """A private containerd whose shim is the one the package installed."""
    cd = harness.Containerd(shim=root / SHIM_PATH, rootfs=rootfs)
    cd.start()
    try:
        yield cd
        leaks = cd.leftovers()
    finally:
        cd.stop()
    assert leaks == [], "leaked:\n" + "\n".join(leaks)


def test_installed_shim_runs_a_container(pkg_containerd, root):
    cd = pkg_containerd.bound(pkg_containerd.new_namespace("package"))
    example = root / EXAMPLE
    cid = unique(cd, "pkg-echo")
    r = cd.run_container(cid, ["/bin/echo", "hello"], runtime_config=example)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"hello\n", b""), diag(cd, cid, r)

    # The shim that served it is the installed binary, not a build's.
    with running(cd, "pkg-sleep", runtime_config=example) as cid:
        shim_pid = int((cd.state / TASKS_DIR / cd.ns / cid / "shim.pid").read_text())
        assert os.readlink(f"/proc/{shim_pid}/exe") == str(root / SHIM_PATH)
    assert_clean(cd)
