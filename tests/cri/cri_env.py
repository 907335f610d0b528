"""A private containerd with its CRI plugin on, for pods (docs/containerd-contract.md).

CriContainerd wraps harness.Containerd(cri=True) and adds what pods need:

- runtime handlers: `runc` (containerd's Go shim io.containerd.runc.v2, the reference),
  `runsc` (our shim; its TOML says `network = "none"`, for host-network pods) and
  `runsc-net` (our shim; `network = "host"`, so runsc uses the pod's netns made by CNI
  through the host stack: why not runsc's own netstack is told at _write_files);
- `restrict_oom_score_adj = true` (no CAP_SYS_RESOURCE here), `sandbox_image` = the
  local pause image (images.py), the streaming server on 127.0.0.1 with a random port;
- the config in the layout of the stack's containerd (harness.STACK): 1.6 and 1.7 have
  one CRI plugin `io.containerd.grpc.v1.cri` (config version 2); 2.x splits it into
  `io.containerd.cri.v1.images` (snapshotter, sandbox image), `io.containerd.cri.v1.runtime`
  (runtimes, CNI, OOM and log settings) and `io.containerd.grpc.v1.cri` (the streaming
  server) (config version 3);
- CNI: one bridge conflist (host-local IPAM, state in our dir, no gateway, no masquerade,
  no host route: nothing leaves the bridge) in our own conf_dir, plugins from /usr/lib/cni;
  pod netns mounts under our state dir;
- runtime state kept under our dir: runc's `Root` and our shim's `root`;
- pods get cgroup parent `/pods-<token>`, so their cgroups are `/pods-<token>/<id>`,
  which the harness already treats as ours (and reports if left);
- leftovers(): the harness's checks plus CRI ones (pods, containers, netns, IPs, CNI
  cache, runtime state, the bridge's veths).

    python3 tests/cri/cri_env.py     # start one, print its address, Ctrl-C stops it
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import images  # noqa: E402
from cri_client import CriClient  # noqa: E402

# (test id, [(step, seconds)]) filled by the tests, printed by conftest's summary.
TIMINGS = []

CNI_BIN_DIR = "/usr/lib/cni"
CNI_CACHE_DIR = Path("/var/lib/cni/results")  # libcni's default result cache
CRI = '"io.containerd.grpc.v1.cri"'

# handler name -> runtime_type (runsc handlers also get a shim TOML, see _config).
HANDLERS = {
    "runc": harness.RUNC_RUNTIME,
    "runsc": harness.RUNSC_RUNTIME,
    "runsc-net": harness.RUNSC_RUNTIME,
}


class CriContainerd:
    """with CriContainerd(image_archives) as env: env.cri.runtime.RunPodSandbox(...)"""

    def __init__(self, image_archives, shim=None, start_timeout=30):
        self.containerd = harness.Containerd(shim=shim, cri=True,
                                             start_timeout=start_timeout)
        self.token = self.containerd.token
        self.image_archives = list(image_archives)
        self.cri = None
        self.netns_paths = set()
        # Every sandbox and container id: the harness checks each one's shim socket
        # (the Go runc shim serves a pod from one socket, named after the sandbox id).
        self.ids = {}  # container or sandbox id -> handler
        self.bridge = f"cri-{self.token}"  # at most 15 bytes (IFNAMSIZ)
        self.network_name = f"shimtest-{self.token}"
        self.cgroup_parent = f"/pods-{self.token}"
        # Concurrent instances get their own bridges; the subnets never meet a host route.
        self.subnet = f"10.250.{int(self.token[:2], 16)}.0/24"

    # -- lifecycle ---------------------------------------------------------

    def start(self):
        self.containerd.prepare = self._prepare
        self.containerd.start()
        self.cri = CriClient(self.address)
        t0 = time.monotonic()
        images.import_images(self.address, self.image_archives)
        self.import_seconds = time.monotonic() - t0
        return self

    def _prepare(self, containerd):
        """Runs once the harness made its dir: our files, and the CRI config."""
        d = containerd.dir
        self.cni_conf_dir = d / "cni" / "net.d"
        self.ipam_dir = d / "cni" / "ipam"
        self.runc_root = d / "runc-root"
        self.runsc_root = d / "runsc-root"
        self.log_root = d / "pod-logs"
        self.runsc_debug_dir = d / "runsc-debug"
        self._write_files()
        return self._config()

    def _write_files(self):
        for p in (self.cni_conf_dir, self.ipam_dir, self.runc_root, self.runsc_root,
                  self.log_root, self.runsc_debug_dir):
            p.mkdir(parents=True, exist_ok=True)
        d = self.containerd.dir
        # runsc's debug logs, one file per runsc command, in a dir that outlives bundles.
        debug = (f'debug = "true"\ndebug-log = "{self.runsc_debug_dir}/"\n'
                 if os.environ.get("CRI_RUNSC_DEBUG") else "")
        # `root` is a top-level key: it must come before the [runsc_config] table.
        root = f'root = "{self.runsc_root}"\n'
        harness.write_shim_toml(d / "runsc.toml", network="none", extra=debug, top=root)
        # Pod network: runsc must use the pod's netns that CNI set up. `network =
        # "sandbox"` (runsc's own netstack, fed from that netns) cannot work with this
        # runsc on this kernel: runsc start fails "cannot run with network enabled in
        # root network namespace" for any netns, because it tells the root netns by
        # /proc/sys/net/core/rmem_default existing, which kernel 6.x shows in every netns
        # (measured). `host` makes runsc use the netns its sandbox process joined (the
        # spec's, i.e. the pod's) through the host kernel's stack.
        harness.write_shim_toml(d / "runsc-net.toml", network="host", extra=debug, top=root)
        conflist = {
            "cniVersion": "0.4.0",
            "name": self.network_name,
            "plugins": [{
                "type": "bridge",
                "bridge": self.bridge,
                "isGateway": False,
                "ipMasq": False,
                "hairpinMode": False,
                "ipam": {"type": "host-local", "dataDir": str(self.ipam_dir),
                         "ranges": [[{"subnet": self.subnet}]]},
            }],
        }
        (self.cni_conf_dir / "10-shimtest.conflist").write_text(json.dumps(conflist, indent=2))

    def _config(self):
        if harness.STACK.major >= 2:
            return self._config_v3()
        p = f"plugins.{CRI}"
        return f"""
[{p}]
  sandbox_image = "{images.PAUSE_IMAGE}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
{self._runtime_settings()}
[{p}.cni]
  bin_dir = "{CNI_BIN_DIR}"
{self._cni_settings()}
[{p}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"
{self._runtimes(p)}"""

    def _config_v3(self):
        """containerd 2.x: the same settings, in the plugins they moved to."""
        images_p, runtime_p = 'plugins."io.containerd.cri.v1.images"', \
            'plugins."io.containerd.cri.v1.runtime"'
        return f"""
[{images_p}]
  snapshotter = "overlayfs"
[{images_p}.pinned_images]
  sandbox = "{images.PAUSE_IMAGE}"

[plugins.{CRI}]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[{runtime_p}]
{self._runtime_settings()}
[{runtime_p}.cni]
  bin_dirs = ["{CNI_BIN_DIR}"]
{self._cni_settings()}
[{runtime_p}.containerd]
  default_runtime_name = "runc"
{self._runtimes(runtime_p)}"""

    @staticmethod
    def _runtime_settings():
        return """  restrict_oom_score_adj = true
  enable_selinux = false
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  max_container_log_line_size = 16384
"""

    def _cni_settings(self):
        return f"""  conf_dir = "{self.cni_conf_dir}"
  max_conf_num = 1
"""

    def _runtimes(self, p):
        """The handlers' tables below p (the plugin that holds `containerd.runtimes`)."""
        d = self.containerd.dir
        out = f"""
[{p}.containerd.runtimes.runc]
  runtime_type = "{harness.RUNC_RUNTIME}"
[{p}.containerd.runtimes.runc.options]
  Root = "{self.runc_root}"
"""
        for name in ("runsc", "runsc-net"):
            out += f"""
[{p}.containerd.runtimes.{name}]
  runtime_type = "{harness.RUNSC_RUNTIME}"
[{p}.containerd.runtimes.{name}.options]
  TypeUrl = "io.containerd.runsc.v1.options"
  ConfigPath = "{d / (name + '.toml')}"
"""
        return out

    def stop(self):
        if self.cri:
            self.cri.close()
            self.cri = None
        self.containerd.stop()
        # What CNI made outside our dir: the bridge (CNI DEL never removes it) and the
        # result cache of any pod that was not torn down.
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
        for f in self._cni_cache_files():
            f.unlink(missing_ok=True)
        for ns in self.netns_paths:
            if os.path.lexists(ns):
                subprocess.run(["umount", ns], capture_output=True)
                Path(ns).unlink(missing_ok=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- helpers -------------------------------------------------------------

    @property
    def address(self):
        return self.containerd.address

    @property
    def dir(self):
        return self.containerd.dir

    def log_text(self):
        return self.containerd.log_text()

    def track(self, cid, handler):
        self.ids[cid] = handler
        self.containerd.track(images.CRI_NAMESPACE, cid)

    def pod_info(self, pod_id):
        """containerd's verbose sandbox info (pid, runtimeSpec, netns...), as a dict."""
        api = self.cri.api
        r = self.cri.runtime.PodSandboxStatus(
            api.PodSandboxStatusRequest(pod_sandbox_id=pod_id, verbose=True), timeout=30)
        info = json.loads(r.info.get("info", "{}"))
        if self.netns_of(info):
            self.netns_paths.add(self.netns_of(info))
        return info

    @staticmethod
    def netns_of(info):
        """The network namespace path in a pod's verbose info ("" for host network)."""
        for ns in info.get("runtimeSpec", {}).get("linux", {}).get("namespaces", []):
            if ns.get("type") == "network":
                return ns.get("path", "")
        return ""

    def _cni_cache_files(self):
        """libcni's cached results of our pods: our bridge network's, and those of the
        loopback network the CRI plugin adds to every pod (`cni-loopback-<pod id>-lo`)."""
        if not CNI_CACHE_DIR.is_dir():
            return []
        loopback = {f"cni-loopback-{i}-lo" for i in self.ids}
        return [f for f in CNI_CACHE_DIR.iterdir()
                if f.name.startswith(self.network_name + "-") or f.name in loopback]

    def leftovers(self):
        """What the pods left behind: [] when clean. Call with no pod expected."""
        api = self.cri.api
        out = []
        try:
            pods = self.cri.runtime.ListPodSandbox(api.ListPodSandboxRequest(),
                                                   timeout=30).items
            ctrs = self.cri.runtime.ListContainers(api.ListContainersRequest(),
                                                   timeout=30).containers
            out += [f"pod sandbox {p.id} ({p.metadata.name}, "
                    f"{api.PodSandboxState.Name(p.state)})" for p in pods]
            out += [f"container {c.id} ({c.metadata.name}, "
                    f"{api.ContainerState.Name(c.state)})" for c in ctrs]
        except Exception as e:  # noqa: BLE001 - a broken CRI is a finding too
            out.append(f"CRI list failed: {e}")
        out += self.containerd.leftovers()
        out += [f"netns {p}" for p in sorted(self.netns_paths) if os.path.lexists(p)]
        net_dir = self.ipam_dir / self.network_name
        if net_dir.is_dir():
            out += [f"pod IP still allocated {f.name}: {f.read_text().strip()!r}"
                    for f in net_dir.iterdir()
                    if f.name not in ("lock",) and not f.name.startswith("last_reserved_ip")]
        out += [f"CNI cache {f}" for f in self._cni_cache_files()]
        for root in (self.runc_root, self.runsc_root):
            if root.is_dir():
                out += [f"runtime state {p}" for ns in root.iterdir() if ns.is_dir()
                        for p in ns.iterdir()]
        links = subprocess.run(["ip", "-o", "link", "show", "master", self.bridge],
                               capture_output=True, text=True).stdout
        out += [f"veth {m.group(1)} on {self.bridge}"
                for m in re.finditer(r"^\d+: ([^:@\s]+)", links, re.M)]
        return out

    def diagnose(self, pod_ids=(), max_log=12000):
        """A text with what tells why a pod failed: containerd's log lines of the shims
        and errors, each bundle's runsc log.json error lines, and the shim log fifo's
        copy (containerd prints it with the shim's id)."""
        log = self.log_text()
        wanted = [ln for ln in log.splitlines()
                  if "level=error" in ln or "level=warn" in ln or "shim" in ln.lower()
                  or "runsc" in ln]
        parts = ["--- containerd log: errors, warnings, shim lines (tail) ---",
                 "\n".join(wanted)[-max_log:]]
        tasks = self.dir / "state" / "io.containerd.runtime.v2.task" if self.dir else None
        if tasks and tasks.is_dir():
            for ns in tasks.iterdir():
                for bundle in ns.iterdir():
                    lj = bundle / "log.json"
                    if lj.is_file():
                        lines = lj.read_text(errors="replace").splitlines()
                        errs = [ln for ln in lines if '"level":"error"' in ln
                                or '"level":"warning"' in ln]
                        parts.append(f"--- {lj} ({len(lines)} lines; warnings/errors) ---")
                        parts.append("\n".join((errs or lines)[-20:]))
        return "\n".join(parts)

    def save_artifacts(self, dest):
        """Copy containerd's log, the config, the TOMLs, every bundle's config.json and
        log.json and runsc's debug logs to dest (for a post-mortem once the dir is gone)."""
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        if not self.dir:
            return dest
        for name in ("containerd.log", "config.toml", "runsc.toml", "runsc-net.toml"):
            if (self.dir / name).is_file():
                shutil.copy2(self.dir / name, dest / name)
        tasks = self.dir / "state" / "io.containerd.runtime.v2.task"
        if tasks.is_dir():
            for ns in tasks.iterdir():
                for bundle in ns.iterdir():
                    for name in ("config.json", "log.json"):
                        if (bundle / name).is_file():
                            shutil.copy2(bundle / name, dest / f"{bundle.name[:12]}-{name}")
        if self.runsc_debug_dir.is_dir() and any(self.runsc_debug_dir.iterdir()):
            shutil.copytree(self.runsc_debug_dir, dest / "runsc-debug", dirs_exist_ok=True)
        return dest


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory(prefix="cri-images-") as tmp:
        archives = images.build_images(tmp).values()
        with CriContainerd(archives) as env:
            print(f"CRI at unix://{env.address} (containerd dir {env.dir}); Ctrl-C stops",
                  flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
