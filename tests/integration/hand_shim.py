"""A shim started by hand, as containerd would start it, for what ctr cannot send: runc's
option types on `start`'s stdin and in Create, checkpoint options, a rootfs of our choosing.
The test then speaks ttrpc to it (ttrpc_client.py) and the shim's events still go to the
harness's containerd.

    with HandStartedShim(cd, "opts-<token>", spec, stdin=any_bytes) as shim:
        code, msg, _ = shim.create(options=runc_create_options(io_uid=1000))
"""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import harness
from tasks import wait_for
from ttrpc_client import TASK, Client, decode, field_bytes, field_varint, first

# containerd's default set for a container (oci.defaultUnixCaps).
DEFAULT_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
                "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
                "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]


def oci_spec(rootfs, args, cgroups_path, env=harness.DEFAULT_ENV, extra_mounts=()):
    """An OCI spec shaped like the one containerd writes for a plain container (its default
    mounts, /run tmpfs included, and its default capabilities)."""
    caps = list(DEFAULT_CAPS)
    mounts = [
        {"destination": "/proc", "type": "proc", "source": "proc",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/run", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        *extra_mounts,
    ]
    return {
        "ociVersion": "1.0.2-dev",
        "process": {"user": {"uid": 0, "gid": 0}, "args": list(args), "env": list(env),
                    "cwd": "/", "noNewPrivileges": True,
                    "capabilities": {k: caps for k in
                                     ("bounding", "effective", "permitted")},
                    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]},
        "root": {"path": str(rootfs)},
        "mounts": mounts,
        "linux": {"cgroupsPath": cgroups_path,
                  "namespaces": [{"type": t} for t in
                                 ("pid", "ipc", "uts", "mount", "network")]},
    }


def any_message(type_url, value):
    """google.protobuf.Any."""
    return field_bytes(1, type_url) + field_bytes(2, value)


def runc_create_options(io_uid=0, io_gid=0, shim_cgroup="", criu_image_path=""):
    """containerd.linux.runc.CreateOptions, what containerd's client sends to runtimes it
    does not know."""
    return any_message("containerd.linux.runc.CreateOptions",
                       field_bytes(9, shim_cgroup) + field_varint(10, io_uid) +
                       field_varint(11, io_gid) + field_bytes(13, criu_image_path))


def runc_v1_options(binary_name="", root="", io_uid=0, io_gid=0):
    """containerd.runc.v1.Options, the runc v2 shim's type."""
    return any_message("containerd.runc.v1.Options",
                       field_varint(4, io_uid) + field_varint(5, io_gid) +
                       field_bytes(6, binary_name) + field_bytes(7, root))


def runtimeoptions(config_path):
    """runtimeoptions.v1.Options{config_path}, without a type URL (as ctr sends it)."""
    return any_message("", field_bytes(2, str(config_path)))


class HandStartedShim:
    """`containerd-shim-runsc-v1 start` in a bundle of our own, then a ttrpc client on it.
    On exit: the container is killed and deleted, the shim shut down, the bundle removed."""

    def __init__(self, cd, cid, spec, stdin=b"", workdir=None):
        self.cd, self.cid = cd, cid
        self.dir = Path(workdir or tempfile.mkdtemp(prefix="hand-shim-"))
        self.bundle = self.dir / "bundle"
        self.bundle.mkdir(parents=True)
        (self.bundle / "config.json").write_text(json.dumps(spec))
        os.mkfifo(self.bundle / "log")
        # containerd reads the shim's log fifo; so do we, into a file for diagnostics.
        self.log_path = self.dir / "shim.log"
        self._drain = subprocess.Popen(["sh", "-c", f'cat "$0" > "$1"', str(self.bundle / "log"),
                                        str(self.log_path)])
        cd.track(cd.ns, cid)
        env = dict(os.environ, TTRPC_ADDRESS=cd.ttrpc_address,
                   **harness.sanitizer_reports.environment())
        self.started = subprocess.run(
            [str(cd.shim), "-namespace", cd.ns, "-address", cd.address,
             "-publish-binary", harness.STACK.containerd, "-id", cid, "start"],
            cwd=self.bundle, env=env, input=stdin, capture_output=True, timeout=20)
        self.address = self.started.stdout.decode().strip()
        self.client = None

    def __enter__(self):
        if self.started.returncode == 0:
            self.client = Client(self.address, timeout=60)
        return self

    def __exit__(self, *exc):
        if self.client is not None:
            code, _, _ = self.client.call(TASK, "Kill",
                                          field_bytes(1, self.cid) + field_varint(3, 9))
            if code == 0:
                self.client.call(TASK, "Wait", field_bytes(1, self.cid))
            self.client.call(TASK, "Delete", field_bytes(1, self.cid))
            try:
                self.client.call(TASK, "Shutdown", field_bytes(1, self.cid))
            except (OSError, EOFError):
                pass
            self.client.close()
            # It exits once its queued events are out (up to 2 s after Shutdown), and a leak
            # check may come right after this.
            wait_for(lambda: harness._is_gone(self.pid), 10)
        self._drain.kill()
        self._drain.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def pid(self):
        """The daemon's pid (`start` writes it into the bundle)."""
        return int((self.bundle / "shim.pid").read_text())

    def call(self, method, payload):
        return self.client.call(TASK, method, payload)

    def create(self, options=b"", stdout="", stderr="", checkpoint=""):
        """Create; `options` is the Any for CreateTaskRequest.options."""
        payload = (field_bytes(1, self.cid) + field_bytes(2, str(self.bundle)) +
                   field_bytes(6, str(stdout)) + field_bytes(7, str(stderr)) +
                   field_bytes(8, str(checkpoint)) + field_bytes(10, options))
        return self.call("Create", payload)

    def start(self):
        return self.call("Start", field_bytes(1, self.cid))

    def wait(self):
        """(rpc code, message, exit status)."""
        code, msg, payload = self.call("Wait", field_bytes(1, self.cid))
        return code, msg, first(decode(payload), 1, 0) if code == 0 else None

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""
