"""Container images for the CRI tests, made here (no registry is reachable):
a pause image (busybox `sleep`, forever) and a busybox image, each written as a
docker-archive tarball (the `docker save` layout: manifest.json, the image config
JSON, one uncompressed layer tar) with tarfile/json/hashlib only, then imported into
a containerd with `ctr -n k8s.io images import` (the CRI plugin's namespace).

    python3 tests/cri/images.py OUT_DIR            # writes pause.tar and busybox.tar
    python3 tests/cri/images.py OUT_DIR --import /path/containerd.sock

The archives are byte-for-byte reproducible (fixed mtimes, owners and order), so the
image ids are stable for a given busybox-static.
"""

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
import harness  # noqa: E402

PAUSE_IMAGE = "localhost/shimtest/pause:1"
BUSYBOX_IMAGE = "localhost/shimtest/busybox:1"
CRI_NAMESPACE = "k8s.io"
ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
# busybox sleep takes whole seconds; this is 68 years.
PAUSE_ENTRYPOINT = ["/bin/sleep", "2147483647"]

# dpkg architecture -> OCI/Go architecture (the config must match the host's platform,
# or ctr import has nothing to unpack for it).
_GOARCH = {"amd64": "amd64", "arm64": "arm64", "armhf": "arm", "i386": "386",
           "ppc64el": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


def host_arch():
    try:
        deb = subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                             text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        deb = "amd64"
    return _GOARCH.get(deb, deb)


def build_pause_rootfs(dest):
    """A rootfs whose only program is busybox, reachable as /bin/sleep."""
    dest = Path(dest)
    (dest / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2("/bin/busybox", dest / "bin/busybox")
    (dest / "bin/sleep").symlink_to("busybox")
    os.chmod(dest, 0o755)
    return dest


def layer_tar(rootfs):
    """The rootfs as an uncompressed tar (bytes): sorted, owned by root, mtime 0."""
    rootfs = Path(rootfs)
    buf = io.BytesIO()

    def normalise(info):
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        return info

    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(rootfs):
            dirnames.sort()
            rel = Path(dirpath).relative_to(rootfs)
            if rel != Path("."):
                tar.add(dirpath, arcname=str(rel), recursive=False, filter=normalise)
            for name in sorted(filenames + [d for d in dirnames
                                             if (Path(dirpath) / d).is_symlink()]):
                path = Path(dirpath) / name
                tar.add(path, arcname=str(rel / name), recursive=False, filter=normalise)
    return buf.getvalue()


def write_docker_archive(out, ref, rootfs, entrypoint=None, cmd=None, env=ENV,
                         working_dir="/"):
    """Write `docker save` format for one single-layer image named ref to out."""
    layer = layer_tar(rootfs)
    layer_hex = hashlib.sha256(layer).hexdigest()
    config = {
        "architecture": host_arch(),
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {"Env": list(env), "Entrypoint": entrypoint, "Cmd": cmd,
                   "WorkingDir": working_dir},
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_hex}"]},
        "history": [{"created": "1970-01-01T00:00:00Z",
                     "created_by": "tests/cri/images.py"}],
    }
    config_bytes = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    manifest = [{"Config": config_name, "RepoTags": [ref],
                 "Layers": [f"{layer_hex}/layer.tar"]}]
    members = [
        (f"{layer_hex}/layer.tar", layer),
        (config_name, config_bytes),
        ("manifest.json", json.dumps(manifest).encode()),
    ]
    out = Path(out)
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        d = tarfile.TarInfo(layer_hex)
        d.type, d.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(d)
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return out


def build_images(out_dir):
    """Write pause.tar and busybox.tar into out_dir: {image ref: archive path}."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cri-images-") as tmp:
        pause = build_pause_rootfs(Path(tmp) / "pause")
        busybox = harness.build_busybox_rootfs(Path(tmp) / "busybox")
        return {
            PAUSE_IMAGE: write_docker_archive(out_dir / "pause.tar", PAUSE_IMAGE, pause,
                                              entrypoint=PAUSE_ENTRYPOINT),
            BUSYBOX_IMAGE: write_docker_archive(out_dir / "busybox.tar", BUSYBOX_IMAGE,
                                                busybox, cmd=["/bin/sh"]),
        }


def import_images(address, archives, namespace=CRI_NAMESPACE, timeout=120):
    """`ctr -a address -n k8s.io images import` each archive (unpacked for the default
    snapshotter, which the CRI plugin uses)."""
    for path in archives:
        r = subprocess.run([harness.STACK.ctr, "-a", str(address), "-n", namespace, "images",
                            "import", str(path)], capture_output=True, text=True,
                           timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"ctr images import {path} failed ({r.returncode}):\n"
                               f"{r.stdout}{r.stderr}")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out_dir")
    p.add_argument("--import", dest="address", metavar="SOCK",
                   help="also import them into the containerd at SOCK")
    a = p.parse_args(argv)
    images = build_images(a.out_dir)
    for ref, path in images.items():
        print(f"{ref}\t{path}\t{path.stat().st_size} bytes")
    if a.address:
        import_images(a.address, images.values())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
