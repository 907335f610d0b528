"""A tiny blocking ttrpc client with a hand-written protobuf codec.

Enough to call a shim's Task API directly from tests, without the python protobuf
package: the wire format is in docs/containerd-contract.md.
"""

import os
import socket
import struct

HEADER = struct.Struct(">IIBB")  # length, stream id, type, flags
TYPE_REQUEST, TYPE_RESPONSE = 1, 2

# google.rpc codes the tests look for.
OK, INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS = 0, 3, 5, 6
FAILED_PRECONDITION, UNIMPLEMENTED, UNAVAILABLE = 9, 12, 14


# -- protobuf -----------------------------------------------------------------

def varint(n):
    n &= (1 << 64) - 1  # negative int32/int64 are ten-byte two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(num, value):
    return varint(num << 3) + varint(value) if value else b""


def field_bytes(num, value):
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value if value else b""


def decode(data):
    """Parse one message level: {field number: [values]}; varints are ints,
    length-delimited fields are bytes (decode nested ones again)."""
    fields, i = {}, 0

    def read_varint():
        nonlocal i
        shift = result = 0
        while True:
            b = data[i]
            i += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return result

    while i < len(data):
        key = read_varint()
        num, wire = key >> 3, key & 7
        if wire == 0:
            value = read_varint()
        elif wire == 2:
            n = read_varint()
            value = bytes(data[i:i + n])
            if len(value) != n:
                raise ValueError("truncated field")
            i += n
        elif wire == 1:
            value, i = bytes(data[i:i + 8]), i + 8
        elif wire == 5:
            value, i = bytes(data[i:i + 4]), i + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        fields.setdefault(num, []).append(value)
    return fields


def first(fields, num, default=None):
    return fields.get(num, [default])[0]


# -- ttrpc ----------------------------------------------------------------------

class TtrpcError(Exception):
    pass


class Client:
    """ttrpc over a unix socket; one call at a time, odd stream ids 1, 3, 5..."""

    def __init__(self, path, timeout=5.0):
        if path.startswith("unix://"):
            path = path[len("unix://"):]
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.next_stream = 1

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed by the server")
            buf += chunk
        return buf

    def send_frame(self, stream, ftype, data, flags=0):
        self.sock.sendall(HEADER.pack(len(data), stream, ftype, flags) + data)

    def recv_frame(self):
        length, stream, ftype, flags = HEADER.unpack(self._recv_exact(HEADER.size))
        return stream, ftype, flags, self._recv_exact(length)

    def call(self, service, method, payload=b"", timeout_nano=0, metadata=()):
        """Returns (code, message, payload) of the response."""
        stream = self.next_stream
        self.next_stream += 2
        req = (field_bytes(1, service) + field_bytes(2, method) + field_bytes(3, payload)
               + field_varint(4, timeout_nano))
        for key, value in metadata:
            req += field_bytes(5, field_bytes(1, key) + field_bytes(2, value))
        self.send_frame(stream, TYPE_REQUEST, req)
        while True:
            got_stream, ftype, _, data = self.recv_frame()
            if got_stream == stream and ftype == TYPE_RESPONSE:
                break
        resp = decode(data)
        status = decode(first(resp, 1, b""))
        code = first(status, 1, 0)
        if code >= 1 << 31:  # int32 sent as a negative varint
            code -= 1 << 64
        return code, first(status, 2, b"").decode(errors="replace"), first(resp, 2, b"")


TASK = "containerd.task.v2.Task"
