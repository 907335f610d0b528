"""Which containerd and runsc the tests, the CRI tests and the bench drive: the machine's
own (bookworm: containerd 1.6, runsc 20221219), or a stack that scripts/install-stacks.sh
unpacked under /opt/shim-stacks (trixie: containerd 1.7, runsc 20240729; sid: containerd
2.1 with trixie's runsc). Chosen from the environment, once per process:

    STACK=bookworm|trixie|sid   both from the stack (bookworm: /usr/bin, runsc from PATH)
    CONTAINERD_DIR=DIR          containerd, ctr, containerd-shim-runc-v2 from DIR
    RUNSC=PATH                  the runsc our shim runs (the TOMLs' binary_name)

CONTAINERD_DIR and RUNSC win over STACK; STACKS_PREFIX moves /opt/shim-stacks.
"""

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

STACKS_PREFIX = Path(os.environ.get("STACKS_PREFIX") or "/opt/shim-stacks")
SYSTEM = "bookworm"  # the machine's own packages, in /usr/bin
NAMES = (SYSTEM, "trixie", "sid")
RUNC_SHIM = "containerd-shim-runc-v2"
# containerd 2's CRI: the gRPC service, the runtime part and the image part.
CRI_PLUGINS_V2 = ('"io.containerd.grpc.v1.cri"', '"io.containerd.cri.v1.runtime"',
                  '"io.containerd.cri.v1.images"')


class Stack:
    def __init__(self, name, containerd_dir, runsc):
        self.name = name
        self.containerd_dir = Path(containerd_dir)
        self.containerd = str(self.containerd_dir / "containerd")
        self.ctr = str(self.containerd_dir / "ctr")
        # The shim TOML's binary_name: a path, so that no PATH decides which runsc runs.
        self.runsc = shutil.which(runsc) or runsc

    def path_env(self, base=None):
        """PATH for containerd and the clients: the stack's dir first, so that containerd
        finds its own runc shim (a stack's package may have none: then the system's)."""
        return f"{self.containerd_dir}:{base or os.environ.get('PATH', '/usr/bin:/bin')}"

    def runc_shim(self):
        """The Go runc shim containerd runs for io.containerd.runc.v2 with this PATH."""
        return shutil.which(RUNC_SHIM, path=self.path_env())

    @functools.cached_property
    def version(self):
        """containerd's version as a tuple of ints, e.g. (1, 7, 24)."""
        out = subprocess.run([self.containerd, "--version"], capture_output=True, text=True,
                             timeout=30).stdout
        m = re.search(r" v?(\d+)\.(\d+)\.(\d+)", out)
        if not m:
            raise RuntimeError(f"{self.containerd} --version: no version in {out!r}")
        return tuple(int(x) for x in m.groups())

    @functools.cached_property
    def runsc_release(self):
        """The runsc's release date as YYYYMMDD (from `runsc --version`), 0 if it says none."""
        out = subprocess.run([self.runsc, "--version"], capture_output=True, text=True,
                             timeout=30).stdout
        m = re.search(r"(20\d{6})", out)
        return int(m.group(1)) if m else 0

    @property
    def major(self):
        return self.version[0]

    def describe(self):
        return (f"stack {self.name}: containerd {'.'.join(map(str, self.version))} "
                f"({self.containerd_dir}), runsc {self.runsc}")


def from_env(env=os.environ):
    name = env.get("STACK") or SYSTEM
    if name not in NAMES:
        raise ValueError(f"STACK={name!r}: one of {', '.join(NAMES)}")
    if name == SYSTEM:
        containerd_dir, runsc = "/usr/bin", "runsc"
    else:
        root = STACKS_PREFIX / name / "usr/bin"
        if not (root / "containerd").is_file():
            raise FileNotFoundError(f"STACK={name}: no {root}/containerd "
                                    "(run scripts/install-stacks.sh)")
        containerd_dir, runsc = root, str(root / "runsc")
    return Stack(name,
                 env.get("CONTAINERD_DIR") or containerd_dir, env.get("RUNSC") or runsc)


CURRENT = from_env()
