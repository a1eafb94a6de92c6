#!/usr/bin/python3
"""Captures real Kafka client requests as annotated hex for tests/data/protocol/captured/.

A minimal fake broker (stdlib only): it answers ApiVersions and Metadata (one topic, one
partition, led by itself) well enough for a client to send a Produce request, records every
request frame it receives, and closes the connection after the first Produce. Usage:

  tools/capture_client_requests.py --out tests/data/protocol/captured --name kcat --port 19092 &
  echo hello | kcat -P -b 127.0.0.1:19092 -t orders -p 0

Each frame is written as <name>_<api key>_v<version>_<n>.hex (one hex line per 16 bytes).
Not used at build time; the golden test decodes and re-encodes whatever is in that folder.
"""
import argparse
import os
import socket
import struct
import sys

# Versions we answer with in ApiVersions (our implemented ranges for the APIs a producer needs).
RANGES = {0: (3, 7), 1: (4, 12), 2: (0, 5), 3: (0, 9), 18: (0, 3), 22: (0, 4)}
TOPIC = "orders"


def s16(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def ns16(s):
    return struct.pack(">h", -1) if s is None else s16(s)


def uvar(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


def cs(s):
    b = s.encode()
    return uvar(len(b) + 1) + b


def api_versions_response(version):
    flex = version >= 3
    body = struct.pack(">h", 0)
    entries = [struct.pack(">hhh", k, lo, hi) + (b"\x00" if flex else b"") for k, (lo, hi) in sorted(RANGES.items())]
    body += (uvar(len(entries) + 1) if flex else struct.pack(">i", len(entries))) + b"".join(entries)
    if version >= 1:
        body += struct.pack(">i", 0)
    if flex:
        body += b"\x00"
    return body  # response header v0 always (KIP-511)


def metadata_response(version, port):
    flex = version >= 9
    s = cs if flex else s16
    def arr(items):
        return (uvar(len(items) + 1) if flex else struct.pack(">i", len(items))) + b"".join(items)
    tag = b"\x00" if flex else b""
    body = b""
    if version >= 3:
        body += struct.pack(">i", 0)
    broker = struct.pack(">i", 0) + s("127.0.0.1") + struct.pack(">i", port)
    if version >= 1:
        broker += (b"\x00" if flex else struct.pack(">h", -1))  # rack null
    body += arr([broker + tag])
    if version >= 2:
        body += s("capture-cluster")
    if version >= 1:
        body += struct.pack(">i", 0)  # controller id
    part = struct.pack(">hii", 0, 0, 0)
    if version >= 7:
        part += struct.pack(">i", 0)
    part += arr([struct.pack(">i", 0)]) + arr([struct.pack(">i", 0)])
    if version >= 5:
        part += arr([])
    topic = struct.pack(">h", 0) + s(TOPIC)
    if version >= 1:
        topic += b"\x00"  # is_internal
    topic += arr([part + tag])
    if version >= 8:
        topic += struct.pack(">i", -2147483648)
    body += arr([topic + tag])
    if 8 <= version <= 10:
        body += struct.pack(">i", -2147483648)
    return body + tag


def hexdump(frame):
    return "\n".join(" ".join(f"{b:02x}" for b in frame[i:i + 16]) for i in range(0, len(frame), 16)) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--port", type=int, default=19092)
    ap.add_argument("--connections", type=int, default=8, help="stop after this many connections")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.port))
    srv.listen(8)
    srv.settimeout(30)
    seen = {}
    done = False
    for _ in range(args.connections):
        if done:
            break
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            break
        conn.settimeout(10)
        buf = b""
        try:
            while not done:
                while len(buf) < 4 or len(buf) < 4 + struct.unpack(">i", buf[:4])[0]:
                    chunk = conn.recv(65536)
                    if not chunk:
                        raise EOFError
                    buf += chunk
                n = struct.unpack(">i", buf[:4])[0]
                frame, buf = buf[4:4 + n], buf[4 + n:]
                key, ver, corr = struct.unpack(">hhi", frame[:8])
                k = (key, ver)
                seen[k] = seen.get(k, 0) + 1
                if seen[k] <= 2:
                    path = os.path.join(args.out, f"{args.name}_{key}_v{ver}_{seen[k]}.hex")
                    with open(path, "w") as fh:
                        fh.write(f"# {args.name}: api_key {key} version {ver}, captured by tools/capture_client_requests.py\n")
                        fh.write(hexdump(frame))
                if key == 18:
                    if ver > 3:
                        body = struct.pack(">hi", 35, 1) + struct.pack(">hhh", 18, 0, 3)
                    else:
                        body = api_versions_response(ver)
                    resp = struct.pack(">i", corr) + body
                elif key == 3:
                    hdr = struct.pack(">i", corr) + (b"\x00" if ver >= 9 else b"")
                    resp = hdr + metadata_response(ver, args.port)
                elif key == 0:
                    done = True
                    break
                else:
                    print(f"unhandled api {key} v{ver}", file=sys.stderr)
                    break
                conn.sendall(struct.pack(">i", len(resp)) + resp)
        except (EOFError, socket.timeout, ConnectionError):
            pass
        conn.close()
    print(f"captured: {sorted(seen)}")


if __name__ == "__main__":
    main()
