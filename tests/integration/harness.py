"""A private containerd for integration tests, and the `demo` entry point.

One implementation of "start containerd with our shim, run a container, tear down"
that pytest (conftest.py), scripts/run.sh and humans all share. Facts it relies on
are in docs/runsc.md and docs/containerd-contract.md. Which containerd, ctr and runsc it
runs: stack.py (STACK, CONTAINERD_DIR, RUNSC).

Everything an instance creates carries its random token: the temp dir is
/tmp/shimtest-<token>, every namespace ends in -<token>. Any process whose command
line, environment or cgroup mentions "-<token>" is ours (the shim gets the grpc
address and TTRPC_ADDRESS; runsc-sandbox/-gofer get bundle paths under our state
dir and, like container processes, live in cgroup /<ns>/<id>), so cleanup never
touches anybody else's processes.

    /usr/bin/python3 tests/integration/harness.py demo [--shim PATH] [--runtime R] [--log]
"""

import argparse
import hashlib
import os
import pty
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tty
from pathlib import Path

import sanitizer_reports
import stack

STACK = stack.CURRENT
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SHIM = REPO_ROOT / "build/src/shim/containerd-shim-runsc-v1"
SHIM_NAME = "containerd-shim-runsc-v1"
RUNSC_RUNTIME = "io.containerd.runsc.v1"
RUNC_RUNTIME = "io.containerd.runc.v2"
SHIM_SOCKET_DIR = Path("/run/containerd/s")
# `ctr run --rootfs` gives the process no environment at all (measured: runc then
# fails "executable file not found in $PATH" for `uname`), so we pass what an
# image config would.
DEFAULT_ENV = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
# Where shims keep per-namespace runtime roots; ours are named after our namespaces.
RUNTIME_ROOTS = (Path("/run/containerd/runc"), Path("/run/containerd/runsc"))


def shim_binary():
    """The shim under test: $SHIM_BINARY, else the default build output."""
    return Path(os.environ.get("SHIM_BINARY") or DEFAULT_SHIM).resolve()


def shim_socket_path(grpc_address, ns, cid):
    """Where a v2 shim for (ns, id) listens: containerd 1.6's shim.SocketAddress."""
    digest = hashlib.sha256(f"{grpc_address}/{ns}/{cid}".encode()).hexdigest()
    return SHIM_SOCKET_DIR / digest


def write_shim_toml(path, network="none", extra="", top=""):
    """The shim's runtime config. runsc refuses to create a sandbox with networking
    in what looks like the host's netns here, so network must reach it (docs/runsc.md).
    binary_name is the stack's runsc; top: more top-level keys (before the table)."""
    Path(path).write_text(f'binary_name = "{STACK.runsc}"\n{top}\n'
                          f'[runsc_config]\nnetwork = "{network}"\n{extra}')
    return Path(path)


def build_busybox_rootfs(dest):
    """A minimal rootfs from busybox-static: the binary plus one symlink per applet."""
    dest = Path(dest)
    for d in ("bin", "etc", "tmp", "proc", "sys", "dev", "root"):
        (dest / d).mkdir(parents=True, exist_ok=True)
    os.chmod(dest / "tmp", 0o1777)
    shutil.copy2("/bin/busybox", dest / "bin/busybox")
    applets = subprocess.run(["/bin/busybox", "--list"], check=True,
                             capture_output=True, text=True).stdout.split()
    for applet in applets:
        # A link named busybox would replace the binary with a self-link.
        if applet != "busybox" and "/" not in applet:
            link = dest / "bin" / applet
            if not link.exists():
                link.symlink_to("busybox")
    (dest / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (dest / "etc/group").write_text("root:x:0:\n")
    os.chmod(dest, 0o755)
    return dest


def _read(path, binary=False):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return b"" if binary else ""
    return data if binary else data.decode(errors="replace")


def _process_mentions(pid, needle):
    """True if the process' cmdline, environ or cgroup paths contain needle (bytes).
    The cgroup catches container processes: their cgroup is /<ns>/<id>."""
    for part in ("cmdline", "environ", "cgroup"):
        if needle in _read(f"/proc/{pid}/{part}", binary=True):
            return True
    return False


def _is_gone(pid):
    """Exited (a zombie counts: our pid 1 may be slow to reap reparented orphans)."""
    stat = _read(f"/proc/{pid}/stat")
    return not stat or stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def mounts_under(prefix):
    """Mount points below prefix (this mount namespace), deepest first."""
    prefix = str(prefix).rstrip("/") + "/"
    points = []
    for line in _read("/proc/self/mountinfo").splitlines():
        # The 5th field is the mount point, with spaces etc. octal-escaped.
        point = re.sub(r"\\(\d{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
        if (point + "/").startswith(prefix):
            points.append(point)
    return sorted(points, key=lambda p: p.count("/"), reverse=True)


def unmount_all(prefix):
    for point in mounts_under(prefix):
        if subprocess.run(["umount", point], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", point], capture_output=True)


def _run_on_pty(cmd, input, timeout):
    """subprocess.run with a new pty as stdin and stdout (stderr stays a pipe)."""
    master, slave = pty.openpty()
    # Raw, so only the container's own pty turns \n into \r\n (not ours again).
    tty.setraw(slave)
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=err,
                                start_new_session=True)
        os.close(slave)
        if input:
            os.write(master, input)
        out, deadline = b"", time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every holder of the slave side closed it
                    break
                if not chunk:
                    break
                out += chunk
            elif proc.poll() is not None and not _readable(master):
                break
        os.close(master)
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise subprocess.TimeoutExpired(cmd, timeout, out)
        err.seek(0)
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err.read())


def _readable(fd):
    return bool(select.select([fd], [], [], 0)[0])


CGROUP_ROOT = Path("/sys/fs/cgroup")


def cgroup_dirs(pattern):
    """Cgroup dirs matching pattern (glob, relative to a hierarchy) in every
    hierarchy mounted under /sys/fs/cgroup (v1 controllers and v2 "unified")."""
    if not CGROUP_ROOT.is_dir():
        return []
    return [d for h in CGROUP_ROOT.iterdir() if h.is_dir() and not h.is_symlink()
            for d in h.glob(pattern) if d.is_dir()]


def remove_cgroups(pattern):
    """rmdir (deepest first) cgroups left by runtimes: containerd makes one per
    namespace, /<ns>/<id> below it, and nobody removes the /<ns> level."""
    for top in cgroup_dirs(pattern):
        for d in sorted(top.rglob("*"), key=lambda p: len(p.parts), reverse=True) + [top]:
            if d.is_dir():
                try:
                    d.rmdir()
                except OSError:
                    pass


class Containerd:
    """A private containerd with our shim first on its PATH.

    with Containerd(rootfs=R) as cd:
        cd.run_container("c1", ["/bin/echo", "hi"], ns=cd.new_namespace("x"))
    """

    def __init__(self, shim=None, rootfs=None, cri=False, extra_config="",
                 start_timeout=20, prepare=None):
        # shim=False: no runsc shim at all (harness self-tests with the Go runc shim).
        self.shim = None if shim is False else Path(shim) if shim else shim_binary()
        self.rootfs = Path(rootfs) if rootfs else None
        self.cri = cri  # True: leave the CRI plugin on (extra_config configures it)
        self.extra_config = extra_config  # TOML appended to config.toml
        self.start_timeout = start_timeout
        # prepare(self) -> str: runs once self.dir exists, before containerd starts (to
        # write files the config names, under our dir); its TOML is appended to config.toml.
        self.prepare = prepare
        self.token = secrets.token_hex(4)
        self.dir = None
        self.proc = None
        self.namespace = self.new_namespace("default")
        self._ids = set()  # (ns, id) pairs used, for the socket leak check

    # -- lifecycle ---------------------------------------------------------

    def start(self):
        if self.shim and not self.shim.is_file():
            raise FileNotFoundError(f"shim binary not found: {self.shim} (set SHIM_BINARY)")
        # /tmp, not $TMPDIR: unix socket paths must stay under 108 bytes.
        self.dir = Path("/tmp") / f"shimtest-{self.token}"
        self.dir.mkdir(mode=0o755)
        self.root, self.state = self.dir / "root", self.dir / "state"
        self.address = str(self.dir / "containerd.sock")
        self.ttrpc_address = str(self.dir / "containerd.sock.ttrpc")
        self.log_path = self.dir / "containerd.log"
        self.config_path = self.dir / "config.toml"
        self.shim_toml = write_shim_toml(self.dir / "shim.toml")
        # containerd 1.6 looks for shim binaries in its cwd before PATH: an empty cwd means
        # only bin/ can answer (docs/containerd-contract.md).
        cwd = self.dir / "cwd"
        bindir = self.dir / "bin"
        cwd.mkdir()
        bindir.mkdir()
        if self.shim:
            (bindir / SHIM_NAME).symlink_to(self.shim)
        self.config_path.write_text(self._config()
                                    + ((self.prepare(self) or "") if self.prepare else ""))
        self._log = open(self.log_path, "wb")
        t0 = time.monotonic()
        self.started_at = time.time()
        self.spawn_containerd()
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        return self

    def spawn_containerd(self):
        """containerd with our config, an empty cwd and our bin/ first on its PATH, then
        the stack's dir (its runc shim). Also how a test restarts it; the log appends."""
        env = dict(os.environ, PATH=STACK.path_env(f"{self.dir / 'bin'}:"
                                                   + os.environ.get("PATH", "/usr/bin:/bin")))
        # The delegating fake runscs (tests/fake_runsc) run the stack's runsc too.
        env["REAL_RUNSC"] = STACK.runsc
        # A sanitizer build of the shim writes its reports to files (containerd's
        # environment is its shims').
        env.update(sanitizer_reports.environment())
        if self._log.closed:
            self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [STACK.containerd, "--config", str(self.config_path)], cwd=self.dir / "cwd",
            env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)  # a Ctrl-C to the tests must not reach it first
        return self.proc

    def _config(self):
        # containerd 2 reads config version 3, where the CRI is three plugins (version 2
        # files are migrated, but then the 1.x CRI table names would be ours to map).
        if STACK.major >= 2:
            version, cri = 3, stack.CRI_PLUGINS_V2
        else:
            version, cri = 2, ('"io.containerd.grpc.v1.cri"',)
        disabled = "" if self.cri else ", ".join(cri)
        # Tests read the events containerd forwards from its log ("event forwarded"): 1.6
        # logs them at debug, 1.7 and 2.x at trace.
        level = "trace" if STACK.version >= (1, 7) else "debug"
        return f"""version = {version}
root = "{self.root}"
state = "{self.state}"
disabled_plugins = [{disabled}]

[grpc]
  address = "{self.address}"

[ttrpc]
  address = "{self.ttrpc_address}"

[debug]
  level = "{level}"

# Keep containerd's "opt" plugin out of the host's /opt/containerd.
[plugins."io.containerd.internal.v1.opt"]
  path = "{self.dir / 'opt'}"
""" + self.extra_config

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"containerd exited with {self.proc.returncode}:\n"
                                   + self.log_text()[-4000:])
            r = subprocess.run([STACK.ctr, "-a", self.address, "version"],
                               capture_output=True, timeout=10)
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise TimeoutError(f"containerd not ready in {self.start_timeout}s:\n"
                           + self.log_text()[-4000:])

    def stop(self):
        """Kill containerd and everything of ours it left; unmount; remove the dir."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self._log.close()
        self.kill_leftover_processes()
        sockets = self._our_sockets()  # before the bundles that name them go
        if self.dir and self.dir.exists():
            sanitizer_reports.keep_log_if_reported(self.log_path, self.token, self.started_at)
            unmount_all(self.dir)
            shutil.rmtree(self.dir, ignore_errors=True)
        for sock in sockets:  # only sockets of (ns, id) pairs that are ours
            sock.unlink(missing_ok=True)
        for base in RUNTIME_ROOTS:  # runtime roots named after our namespaces
            for d in base.glob(f"*-{self.token}") if base.is_dir() else ():
                unmount_all(d)
                shutil.rmtree(d, ignore_errors=True)
        remove_cgroups(f"*-{self.token}")
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log_text(self):
        return _read(self.log_path) if self.dir else ""

    # -- leak detection ----------------------------------------------------

    def our_processes(self):
        """[(pid, comm, cmdline)] of live processes that are ours, containerd aside."""
        needle = f"-{self.token}".encode()  # in shimtest-<token> and <ns>-<token>
        skip = {os.getpid(), self.proc.pid if self.proc else -1}
        found = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in skip:
                continue
            pid = int(entry)
            if _process_mentions(pid, needle) and not _is_gone(pid):
                comm = _read(f"/proc/{pid}/comm").strip()
                cmd = _read(f"/proc/{pid}/cmdline").replace("\0", " ").strip()
                found.append((pid, comm, cmd))
        return found

    def kill_leftover_processes(self, timeout=5):
        deadline = time.monotonic() + timeout
        while True:
            procs = self.our_processes()
            if not procs or time.monotonic() > deadline:
                return procs
            for pid, _, _ in procs:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.05)

    def track(self, ns, cid):
        """Remember an id so leftovers() checks its shim socket."""
        self._ids.add((ns or self.namespace, cid))

    def _our_sockets(self):
        if not self.dir:
            return []
        paths = [shim_socket_path(self.address, ns, cid) for ns, cid in self._ids]
        # Bundles still on disk name more (ns, id) pairs than we tracked.
        tasks = self.state / "io.containerd.runtime.v2.task"
        if tasks.is_dir():
            for ns_dir in tasks.iterdir():
                for bundle in ns_dir.iterdir():
                    paths.append(shim_socket_path(self.address, ns_dir.name, bundle.name))
        return [p for p in set(paths) if os.path.lexists(p)]

    def leftovers(self):
        """Descriptions of what our shims left behind: [] when clean.

        Call it after the test's containers are gone. Looks at processes mentioning
        our token (shims, runsc, container processes), container cgroups, mounts
        under our dir, shim sockets of ids we used, and bundles containerd kept.
        """
        out = [f"process {pid} {comm}: {cmd[:300]}" for pid, comm, cmd in self.our_processes()]
        # /<ns> stays (containerd's convention); a /<ns>/<id> left is a leak.
        out += [f"cgroup {d}" for d in cgroup_dirs(f"*-{self.token}/*")]
        if self.dir:
            out += [f"mount {m}" for m in mounts_under(self.dir)]
            out += [f"socket {s}" for s in self._our_sockets()]
            tasks = self.state / "io.containerd.runtime.v2.task"
            if tasks.is_dir():
                out += [f"bundle {b}" for ns in tasks.iterdir() for b in ns.iterdir()]
        return out

    # -- clients -----------------------------------------------------------

    def new_namespace(self, hint):
        """A valid containerd namespace unique to this instance (ends in the token)."""
        base = re.sub(r"[^A-Za-z0-9]+", "-", hint).strip("-")[:40] or "ns"
        return f"{base}-{self.token}"

    def ctr(self, *args, ns=None, timeout=60, input=None, tty=False):
        """Run `ctr -a SOCK -n NS args...` under `timeout -s KILL` (ctr forwards
        SIGTERM to the task, and busybox as PID 1 ignores it). input: bytes for
        ctr's stdin (None: /dev/null). tty: give ctr a pty as stdin/stdout, which
        `ctr run --tty` requires; its stdout then has the pty's CRLF line ends."""
        cmd = ["timeout", "-s", "KILL", str(timeout), STACK.ctr, "-a", self.address,
               "-n", ns or self.namespace, *map(str, args)]
        if tty:
            return _run_on_pty(cmd, input or b"", timeout + 10)
        return subprocess.run(cmd, input=input, capture_output=True, timeout=timeout + 10,
                              stdin=subprocess.DEVNULL if input is None else None)

    def run_container(self, cid, cmd, extra_args=(), stdin=None, tty=False, timeout=60,
                      ns=None, runtime=RUNSC_RUNTIME, rootfs=None, runtime_config=None,
                      env=DEFAULT_ENV):
        """`ctr run ... --rm [--tty] --rootfs ROOTFS ID CMD...` (flag order:
        docs/containerd-contract.md). stdin: bytes fed to the container, or None for no
        stdin. Returns the CompletedProcess of ctr (stdout/stderr bytes, returncode = the
        task's exit)."""
        ns = ns or self.namespace
        self.track(ns, cid)
        rootfs = rootfs or self.rootfs
        if rootfs is None:
            raise ValueError("no rootfs: pass rootfs= here or to Containerd()")
        args = ["run", "--runtime", runtime]
        if runtime == RUNSC_RUNTIME:
            args += ["--runtime-config-path", runtime_config or self.shim_toml]
        args += ["--rm", *(f"--env={e}" for e in env), *extra_args]
        if tty:
            args.append("--tty")
        args += ["--rootfs", rootfs, cid, *cmd]
        return self.ctr(*args, ns=ns, timeout=timeout, input=stdin, tty=tty)

    def bound(self, ns):
        return Namespaced(self, ns)


class Namespaced:
    """A Containerd seen through one namespace: what a test gets as `cd`."""

    def __init__(self, containerd, ns):
        self.containerd, self.ns = containerd, ns

    def ctr(self, *args, **kw):
        return self.containerd.ctr(*args, ns=self.ns, **kw)

    def run_container(self, cid, cmd, **kw):
        return self.containerd.run_container(cid, cmd, ns=self.ns, **kw)

    def socket_path(self, cid):
        return shim_socket_path(self.containerd.address, self.ns, cid)

    def __getattr__(self, name):
        return getattr(self.containerd, name)


def demo(argv):
    p = argparse.ArgumentParser(prog="harness.py demo",
                                description="Run busybox echo and uname under gVisor.")
    p.add_argument("--shim", default=None, help="shim binary (default: $SHIM_BINARY or build/)")
    p.add_argument("--runtime", default=RUNSC_RUNTIME)
    p.add_argument("--log", action="store_true", help="print containerd's log at the end")
    a = p.parse_args(argv)
    ok = True
    if a.runtime != RUNC_RUNTIME and not (Path(a.shim) if a.shim else shim_binary()).is_file():
        print(f"shim binary not found: {a.shim or shim_binary()} (build it, or set SHIM_BINARY)",
              file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="shimtest-rootfs-") as tmp:
        rootfs = build_busybox_rootfs(Path(tmp) / "rootfs")
        # The Go runc shim needs no shim of ours: that run checks the harness alone.
        shim = False if a.runtime == RUNC_RUNTIME else a.shim
        with Containerd(shim=shim, rootfs=rootfs) as cd:
            print(f"containerd ready in {cd.startup_seconds:.2f}s at {cd.address}", flush=True)
            for i, cmd in enumerate((["/bin/echo", "hello from gVisor"], ["uname", "-a"])):
                t0 = time.monotonic()
                r = cd.run_container(f"demo{i}", cmd, runtime=a.runtime)
                dt = time.monotonic() - t0
                print(f"$ ctr run --runtime {a.runtime} ... {' '.join(cmd)}   "
                      f"# exit {r.returncode}, {dt:.2f}s")
                sys.stdout.write(r.stdout.decode(errors="replace"))
                if r.stderr:
                    sys.stdout.write("stderr: " + r.stderr.decode(errors="replace"))
                ok &= r.returncode == 0
            left = cd.leftovers()
            if left:
                print("leftovers:", *left, sep="\n  ")
            if a.log or not ok:
                print("--- containerd log (tail) ---\n" + cd.log_text()[-6000:])
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "demo":
        sys.exit(__doc__)
    sys.exit(demo(sys.argv[2:]))
