"""Datasets and checks shared by the per-client round-trip tests.

A dataset is a list of Record (key, value, headers, timestamp) in send order. After a client
consumed the topic back, `verify_roundtrip` checks every record: it is on the partition Java's
murmur2 partitioner picks for its key, offsets are contiguous from 0 on every partition, the
per-partition order equals the send order, and key, value, headers and timestamp are identical.
"""

import json
import random
import time
from collections import defaultdict

from kafkawire import Record, java_partition

ROUNDTRIP_RECORDS = 100_000
ROUNDTRIP_PARTITIONS = 6

# Printable ASCII without tab, newline, backslash and quote: safe for kcat's line format.
_ALPHABET = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in "\\\"")


def make_dataset(client: str, n: int = ROUNDTRIP_RECORDS, seed: int = 1, headers=True,
                 base_timestamp_ms=None):
    """Deterministic keyed records with headers and explicit, strictly increasing timestamps."""
    rng = random.Random(f"{client}-{seed}")
    blob = "".join(rng.choice(_ALPHABET) for _ in range(1 << 16))
    if base_timestamp_ms is None:
        # Recent, so that no retention policy can consider the data expired.
        base_timestamp_ms = int(time.time() * 1000) - 3_600_000
    records = []
    for i in range(n):
        key = f"{client}-{i:06d}-{rng.getrandbits(32):08x}".encode()
        off = rng.randrange(0, len(blob) - 300)
        value = (f"{i}:" + blob[off:off + rng.randrange(8, 200)]).encode()
        hdrs = []
        if headers:
            hdrs = [("seq", str(i).encode()), ("client", client.encode())]
            if i % 5 == 0:
                hdrs.append(("empty", b""))
        records.append(Record(key, value, hdrs, base_timestamp_ms + i))
    return records


def write_dataset_jsonl(records, path):
    """One JSON object per line; bytes as latin-1 strings (exact for every byte value)."""
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps({
                "k": r.key.decode("latin-1"),
                "v": r.value.decode("latin-1"),
                "h": [[k, v.decode("latin-1")] for k, v in r.headers],
                "ts": r.timestamp,
            }) + "\n")


def read_consumed_jsonl(path):
    """Reads records written by the JS drivers: {"p","o","k","v","h","ts"} per line."""
    out = []
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            o = json.loads(line)
            key = None if o["k"] is None else o["k"].encode("latin-1")
            value = None if o["v"] is None else o["v"].encode("latin-1")
            hdrs = [(k, None if v is None else v.encode("latin-1")) for k, v in o["h"]]
            rec = Record(key, value, hdrs, int(o["ts"]), int(o["o"]))
            out.append((int(o["p"]), rec))
    return out


def _describe(rec):
    def short(b):
        if b is None:
            return None
        return b[:40] + (b"..." if len(b) > 40 else b"")
    return (f"key={short(rec.key)!r} value={short(rec.value)!r} headers={rec.headers!r} "
            f"ts={rec.timestamp}")


def verify_roundtrip(expected, consumed, num_partitions, *, check_timestamps=True,
                     timestamp_range=None, client=""):
    """expected: list of Record in send order. consumed: list of (partition, Record with .offset).

    Keyed records must be on java_partition(key). With check_timestamps the consumed timestamp
    must equal the producer's; otherwise (clients that cannot set one) it must lie within
    timestamp_range (ms, inclusive) if given.
    """
    want = defaultdict(list)
    for r in expected:
        want[java_partition(r.key, num_partitions)].append(r)
    got = defaultdict(list)
    for p, r in consumed:
        got[p].append(r)

    problems = []
    total_got = sum(len(v) for v in got.values())
    if total_got != len(expected):
        problems.append(f"consumed {total_got} records, produced {len(expected)}")
    for p in sorted(set(got) | set(want)):
        if not 0 <= p < num_partitions:
            problems.append(f"records on partition {p}, topic has {num_partitions}")
            continue
        g = sorted(got[p], key=lambda r: r.offset)
        offsets = [r.offset for r in g]
        if offsets != list(range(len(g))):
            first_bad = next(i for i, o in enumerate(offsets) if o != i)
            problems.append(f"partition {p}: offsets not contiguous from 0: position {first_bad} "
                            f"has offset {offsets[first_bad]} (first offsets {offsets[:5]})")
        w = want[p]
        if len(g) != len(w):
            problems.append(f"partition {p}: consumed {len(g)} records, murmur2 puts "
                            f"{len(w)} of the produced records there")
        mismatches = 0
        for i, (a, b) in enumerate(zip(w, g)):
            same = (a.key == b.key and a.value == b.value and list(a.headers) == list(b.headers))
            if same and check_timestamps:
                same = a.timestamp == b.timestamp
            if same and not check_timestamps and timestamp_range is not None:
                same = timestamp_range[0] <= b.timestamp <= timestamp_range[1]
            if not same:
                mismatches += 1
                if mismatches <= 3:
                    wrong_partition = ""
                    if b.key is not None:
                        jp = java_partition(b.key, num_partitions)
                        if jp != p:
                            wrong_partition = f" (this key belongs on partition {jp})"
                    problems.append(f"partition {p} offset {b.offset}: expected {_describe(a)}; "
                                    f"got {_describe(b)}{wrong_partition}")
        if mismatches > 3:
            problems.append(f"partition {p}: {mismatches} mismatching records in total")
        if len(problems) > 20:
            break
    assert not problems, f"{client} round trip failed:\n  " + "\n  ".join(problems)
