#!/usr/bin/env python3
"""Capture proxy: records every Kafka request frame (and optionally every response) passing
between clients and a broker, one file per frame, for the codec tests (tests/data/captured/).

Usage:
  capture_proxy.py --upstream 127.0.0.1:9092 --out DIR [--listen 127.0.0.1:19092] [--responses]
Prints "listening=HOST:PORT", serves until SIGTERM/SIGINT.

Files (bytes exactly as on the wire, without the int32 size prefix):
  DIR/<seq>-<ApiName>-k<key>-v<version>.request.bin    header + body of a request
  DIR/<seq>-<ApiName>-k<key>-v<version>.response.bin   its response (with --responses)
  DIR/index.jsonl   one line per file: seq, connection, direction, api_key, api_version,
                    correlation_id, client_id, size, file
<seq> is a global 6-digit counter in arrival order; a response carries its request's seq.

Recording real clients: pick a proxy port P, run the broker with
`--set advertised.listeners=PLAINTEXT://127.0.0.1:P` (so clients reconnect through the proxy
after Metadata), start this proxy with --listen 127.0.0.1:P --upstream <broker>, and point the
client at 127.0.0.1:P.
"""

import argparse
import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafka_proxy import FORWARD, FrameProxy, api_name, parse_hostport, serve_until_signal  # noqa: E402


class CaptureProxy(FrameProxy):
    def __init__(self, upstream, out_dir, listen=("127.0.0.1", 0), responses=False):
        super().__init__(upstream, listen)
        self.out_dir = out_dir
        self.responses = responses
        os.makedirs(out_dir, exist_ok=True)
        self._lock = threading.Lock()
        self._seq = 0
        self._index = open(os.path.join(out_dir, "index.jsonl"), "a")
        self.files = []

    def _write(self, seq, conn, info, frame, direction):
        name = f"{seq:06d}-{api_name(info.api_key)}-k{info.api_key}-v{info.api_version}.{direction}.bin"
        with open(os.path.join(self.out_dir, name), "wb") as f:
            f.write(frame)
        with self._lock:
            self.files.append(name)
            self._index.write(json.dumps({
                "seq": seq, "connection": conn.index, "direction": direction,
                "api_key": info.api_key, "api_version": info.api_version,
                "correlation_id": info.correlation_id, "client_id": info.client_id,
                "size": len(frame), "file": name}) + "\n")
            self._index.flush()

    def on_request(self, conn, info, frame):
        if info is None:
            return FORWARD
        with self._lock:
            seq = self._seq
            self._seq += 1
        info.tag = seq
        self._write(seq, conn, info, frame, "request")
        return FORWARD

    def on_response(self, conn, info, frame):
        if self.responses and info is not None:
            self._write(info.tag, conn, info, frame, "response")
        return FORWARD

    def stop(self):
        super().stop()
        with self._lock:
            self._index.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", required=True, help="broker HOST:PORT")
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT to accept clients on")
    ap.add_argument("--out", required=True, help="directory for the captured frames")
    ap.add_argument("--responses", action="store_true", help="also capture responses")
    args = ap.parse_args()
    serve_until_signal(CaptureProxy(parse_hostport(args.upstream), args.out,
                                    parse_hostport(args.listen), args.responses))


if __name__ == "__main__":
    main()
