#!/usr/bin/env python3
"""Fault proxy: forwards Kafka traffic and, at seeded random, drops responses or resets
connections, so tests can make a broker apply a request whose response the client never sees
(the retry/duplicate scenario the idempotent producer must survive).

Usage:
  fault_proxy.py --upstream 127.0.0.1:9092 [--listen 127.0.0.1:0] --seed N
                 [--drop-response-rate P] [--reset-rate P] [--apis 0,1] [--log FILE]
Prints "listening=HOST:PORT", serves until SIGTERM/SIGINT.

For every response to a request whose API key is in --apis (default: every key except
ApiVersions and Metadata, so clients can still bootstrap), the proxy draws one number from the
connection's random generator: below reset-rate it resets both sides of the connection (RST)
instead of delivering the response; else below reset-rate + drop-response-rate it swallows the
response; else it forwards it. Each connection's generator is seeded with (seed, connection
index), so the same traffic with the same seed gets the same faults. Every fault is appended to
--log as a JSON line {connection, action, api_key, api_version, correlation_id}.

With --stall-after-drop a dropped response also silences the connection: every later response on
it is swallowed too (logged as action "stall"), as a TCP connection whose peer went dark would
behave. Without it, later responses still arrive after a dropped one, which no real TCP
connection can do; clients that pipeline (librdkafka's max.in.flight) then run ahead of the lost
response further than any broker's duplicate window.
As with capture_proxy.py, the broker must advertise the proxy's address for clients that follow
Metadata.
"""

import argparse
import json
import os
import random
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kafka_proxy import DROP, FORWARD, RESET, FrameProxy, parse_hostport, serve_until_signal  # noqa: E402

DEFAULT_SPARED_APIS = {3, 18}  # Metadata, ApiVersions


class FaultProxy(FrameProxy):
    def __init__(self, upstream, seed, drop_response_rate=0.0, reset_rate=0.0, apis=None,
                 listen=("127.0.0.1", 0), log_path=None, stall_after_drop=False):
        super().__init__(upstream, listen)
        assert 0 <= drop_response_rate and 0 <= reset_rate and drop_response_rate + reset_rate <= 1
        self.seed = seed
        self.drop_rate = drop_response_rate
        self.reset_rate = reset_rate
        self.apis = set(apis) if apis is not None else None
        self.faults = []  # dicts, in the order they happened
        self._lock = threading.Lock()
        self._rngs = {}
        self.stall_after_drop = stall_after_drop
        self._stalled = set()  # connection indexes silenced by a drop
        self._log = open(log_path, "a") if log_path else None

    def _subject(self, api_key):
        if self.apis is not None:
            return api_key in self.apis
        return api_key not in DEFAULT_SPARED_APIS

    def on_response(self, conn, info, frame):
        with self._lock:
            stalled = conn.index in self._stalled
        if stalled:
            self._record(conn, info, "stall")
            return DROP
        if info is None or not self._subject(info.api_key):
            return FORWARD
        with self._lock:
            rng = self._rngs.get(conn.index)
            if rng is None:
                rng = self._rngs[conn.index] = random.Random(f"{self.seed}-{conn.index}")
            x = rng.random()
        if x < self.reset_rate:
            action = RESET
        elif x < self.reset_rate + self.drop_rate:
            action = DROP
        else:
            return FORWARD
        if action == DROP and self.stall_after_drop:
            with self._lock:
                self._stalled.add(conn.index)
        self._record(conn, info, action)
        return action

    def _record(self, conn, info, action):
        fault = {"connection": conn.index, "action": action, "api_key": info.api_key if info else None,
                 "api_version": info.api_version if info else None,
                 "correlation_id": info.correlation_id if info else None}
        with self._lock:
            self.faults.append(fault)
            if self._log:
                self._log.write(json.dumps(fault) + "\n")
                self._log.flush()

    def stop(self):
        super().stop()
        if self._log:
            self._log.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", required=True, help="broker HOST:PORT")
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--drop-response-rate", type=float, default=0.0)
    ap.add_argument("--reset-rate", type=float, default=0.0)
    ap.add_argument("--apis", help="comma-separated API keys subject to faults")
    ap.add_argument("--log", help="append faults as JSON lines to this file")
    ap.add_argument("--stall-after-drop", action="store_true",
                    help="after a dropped response, swallow every later response of that connection")
    args = ap.parse_args()
    apis = [int(a) for a in args.apis.split(",")] if args.apis else None
    serve_until_signal(FaultProxy(parse_hostport(args.upstream), args.seed, args.drop_response_rate,
                                  args.reset_rate, apis, parse_hostport(args.listen), args.log,
                                  args.stall_after_drop))


if __name__ == "__main__":
    main()
