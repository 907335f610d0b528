#!/usr/bin/env python3
"""Writes the seed corpus for fuzz_ttrpc_frame (tiny hand-made frames, valid and not).

Each seed is: limit byte (0xff = 4 MiB, else the limit itself), chunk byte (0 = one feed),
then the byte stream. Run from anywhere; writes next to this script.
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "ttrpc_frame")


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, payload):  # length-delimited field
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def request(service, method, payload=b"", metadata=()):
    body = field(1, service) + field(2, method) + field(3, payload)
    body += varint(4 << 3) + varint(2_000_000_000)  # timeout_nano
    for k, v in metadata:
        body += field(5, field(1, k) + field(2, v))
    return body


def frame(sid, typ, data, length=None):
    return struct.pack(">IIBB", len(data) if length is None else length, sid, typ, 0) + data


ns = [(b"containerd-namespace-ttrpc", b"default")]
good = frame(1, 1, request(b"containerd.task.v2.Task", b"State", b"\x0a\x02c1", ns))
status = field(1, varint(1 << 3) + b"\x05" + field(2, b"not found"))  # Response{status}
seeds = {
    "request": b"\xff\x00" + good,
    "request_split": b"\xff\x03" + good,
    "two_requests": b"\xff\x07" + good + frame(3, 1, request(b"svc", b"Echo")),
    "response": b"\xff\x00" + frame(1, 2, status + field(2, b"payload")),
    "even_stream": b"\xff\x00" + frame(2, 1, request(b"svc", b"Echo")),
    "bad_protobuf": b"\xff\x00" + frame(1, 1, b"\xff\xff\xff\xff"),
    "oversized_then_ok": b"\x10\x05" + frame(1, 1, b"x" * 40) + frame(3, 1, request(b"s", b"m")),
    "half_frame": b"\xff\x00" + good[:15],
    "empty_frame": b"\xff\x01" + frame(1, 3, b""),
}

os.makedirs(OUT, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
