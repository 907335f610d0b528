"""A CRI (`runtime.v1`) client over gRPC for the tests: the messages come from
runtime_v1.proto through Debian's `protoc --python_out` at import time (into a temp
dir; nothing generated is committed), the stubs are built here from the proto's own
service descriptors with `grpc.Channel.unary_unary`.

    api = load_api()                       # the generated module (messages, enums)
    cri = CriClient("/path/containerd.sock")
    r = cri.runtime.Version(api.VersionRequest())

Needs python3-grpcio and python3-protobuf (Debian) and protoc (protobuf-compiler):
the system protoc and the system protobuf runtime are the same release (3.21), so the
generated code always matches its runtime. (python3-grpc-tools exists in bookworm but
bundles an older protoc than the runtime it would run against.)
"""

import atexit
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import grpc

PROTO = Path(__file__).resolve().with_name("runtime_v1.proto")
_api = None


def load_api():
    """Generate runtime_v1_pb2 from the .proto (once per process) and import it."""
    global _api
    if _api is not None:
        return _api
    out = Path(tempfile.mkdtemp(prefix="cri-pb2-"))
    atexit.register(shutil.rmtree, out, True)
    r = subprocess.run(["protoc", f"--proto_path={PROTO.parent}", f"--python_out={out}",
                        PROTO.name], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"protoc failed on {PROTO}:\n{r.stderr}")
    spec = importlib.util.spec_from_file_location("runtime_v1_pb2", out / "runtime_v1_pb2.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["runtime_v1_pb2"] = module
    spec.loader.exec_module(module)
    _api = module
    return module


class _Stub:
    """One attribute per rpc of a service: stub.Method(request, timeout=...)."""

    def __init__(self, channel, api, service_name):
        service = api.DESCRIPTOR.services_by_name[service_name]
        for method in service.methods:
            request_cls = getattr(api, method.input_type.name)
            response_cls = getattr(api, method.output_type.name)
            call = channel.unary_unary(
                f"/{service.full_name}/{method.name}",
                request_serializer=request_cls.SerializeToString,
                response_deserializer=response_cls.FromString)
            setattr(self, method.name, call)


class CriClient:
    """RuntimeService and ImageService on containerd's gRPC socket (the CRI plugin
    registers on containerd's own server)."""

    def __init__(self, socket_path):
        self.api = load_api()
        self.channel = grpc.insecure_channel(f"unix://{socket_path}")
        self.runtime = _Stub(self.channel, self.api, "RuntimeService")
        self.image = _Stub(self.channel, self.api, "ImageService")

    def close(self):
        self.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
