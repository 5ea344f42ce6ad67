#!/usr/bin/env python3
"""Regenerates the fuzz seed corpora from the text protos in seeds/ (needs protoc).

append_request/<name>.pb   one AppendRequest each, binary (validator target)
spool_file/<name>.spool    spool.log files in the Spool framing
                           [magic u32 "TMSP"][len u32][crc32c(len || payload) u32][payload]
                           (little-endian): clean files, a torn tail, a corrupt CRC, an
                           oversized length and an empty file (spool reader target)

Run from anywhere: python3 services/persistence/tests/corpus/make_seeds.py
"""
import pathlib
import struct
import subprocess

HERE = pathlib.Path(__file__).resolve().parent
PROTO_ROOT = HERE.parents[3] / "proto"
MAGIC = 0x50534D54


def crc32c(data: bytes, crc: int = 0) -> int:
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def frame(payload: bytes) -> bytes:
    length = struct.pack("<I", len(payload))
    return struct.pack("<I", MAGIC) + length + struct.pack("<I", crc32c(payload, crc32c(length))) + payload


def encode(textproto: pathlib.Path) -> bytes:
    return subprocess.run(
        ["protoc", f"-I{PROTO_ROOT}", "--encode=tickmesh.v1.AppendRequest",
         "tickmesh/v1/persistence.proto"],
        input=textproto.read_bytes(), stdout=subprocess.PIPE, check=True).stdout


def main() -> None:
    requests = {}
    for src in sorted((HERE / "seeds").glob("*.textproto")):
        requests[src.stem] = encode(src)
        (HERE / "append_request" / f"{src.stem}.pb").write_bytes(requests[src.stem])
    good = [v for k, v in requests.items() if k != "invalid"]
    spool = HERE / "spool_file"
    whole = b"".join(frame(p) for p in good)
    (spool / "clean.spool").write_bytes(whole)
    (spool / "one_entry.spool").write_bytes(frame(good[0]))
    (spool / "torn_tail.spool").write_bytes(whole + frame(good[0])[:20])
    bad_crc = bytearray(whole)
    bad_crc[len(frame(good[0])) + 9] ^= 0x01  # second entry's CRC
    (spool / "bad_crc.spool").write_bytes(bytes(bad_crc))
    huge = struct.pack("<III", MAGIC, 0xFFFFFFF0, 0)
    (spool / "huge_length.spool").write_bytes(frame(good[0]) + huge + b"x" * 16)
    (spool / "unparsable_payload.spool").write_bytes(frame(b"\xff\xff\xff") + frame(good[1]))
    (spool / "empty.spool").write_bytes(b"")


if __name__ == "__main__":
    main()
