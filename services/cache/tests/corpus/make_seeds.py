#!/usr/bin/env python3
"""Writes the seed corpora of the cache fuzz targets (run from this directory):
redis_url/  --redis_url values; request/  a kind byte (0 Get, 1 Set, 2 Delete, 3 MGet, 4 MSet)
followed by the protobuf wire encoding of a tickmesh.v1 request as the execution service and
tools send them (balance/position keys, serialized values, TTLs)."""
import os


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def set_req(key, value, ttl=0):
    out = field_bytes(1, key) + field_bytes(2, value)
    if ttl:
        out += field_varint(3, ttl)
    return out


def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


urls = {
    "local": "redis://127.0.0.1:6379/0",
    "default_port": "redis://localhost",
    "password_only": "redis://:s3cret@10.0.0.5:6380/2",
    "user_password": "redis://app:p%40ss@cache.internal:6379/1",
    "shorthand_password": "redis://secret@host",
    "ipv6": "redis://[::1]:6379/3",
    "bad_port": "redis://host:70000",
    "bad_scheme": "rediss://host:6379",
    "bad_escape": "redis://u:%zz@host",
    "empty_host": "redis://:6379",
}
for name, url in urls.items():
    write("redis_url", name, url.encode())

balance = bytes.fromhex("0a0570617065721203555344188094ebdc03")  # a Balance-like message
write("request", "get_balance", b"\x00" + field_bytes(1, b"balance:loadtest:USD"))
write("request", "get_bad_key", b"\x00" + field_bytes(1, b"bad key"))
write("request", "set_balance", b"\x01" + set_req(b"balance:paper:BTC", balance))
write("request", "set_ttl", b"\x01" + set_req(b"ticker:binance:BTCUSDT", b"x" * 64, 5000))
write("request", "set_negative_ttl", b"\x01" + set_req(b"k", b"v", -1))
# Found by this fuzzer: a TTL near INT64_MAX overflowed the deadline (entry expired at once).
write("request", "set_huge_ttl", b"\x01" + set_req(b"k", b"v", (1 << 63) - 1))
write("request", "delete", b"\x02" + field_bytes(1, b"position:paper:ETHUSDT"))
write("request", "mget", b"\x03" + b"".join(
    field_bytes(1, k) for k in [b"balance:paper:USD", b"balance:paper:BTC", b"position:paper:BTCUSDT"]))
write("request", "mget_empty_key", b"\x03" + field_bytes(1, b"a") + field_bytes(1, b""))
write("request", "mset", b"\x04" + b"".join(field_bytes(1, set_req(k, v, t)) for k, v, t in [
    (b"balance:paper:USD", balance, 0), (b"balance:paper:BTC", balance, 0),
    (b"position:paper:BTCUSDT", b"\x08\x01\x10\x02", 60000), (b"balance:paper:USD", b"newer", 0)]))
write("request", "mset_bad_entry", b"\x04" + field_bytes(1, set_req(b"ok", b"v")) +
      field_bytes(1, set_req(b"no\x01ctl", b"v")))
