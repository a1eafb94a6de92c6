"""kcat 1.7.1 (librdkafka 2.0.2): 100,000 keyed records produced from a generated file at
acks=all into a 6-partition topic, consumed back per partition with -C -p N -o beginning -e -J.

kcat cannot set per-message headers or timestamps: every record carries the same -H headers and
a CreateTime set by librdkafka, checked to lie within the produce window. kcat has no admin
command, so the topic is created with confluent-kafka-python's AdminClient.
"""

import json
import os
import subprocess
import time

from kafkawire import Record
from roundtrip import ROUNDTRIP_PARTITIONS, make_dataset, verify_roundtrip


def test_kcat_roundtrip(broker, topic_name, tmp_path):
    broker.create_topic(topic_name, ROUNDTRIP_PARTITIONS)
    headers = [("client", b"kcat"), ("run", topic_name.encode())]
    records = make_dataset("kcat", headers=False)
    for r in records:
        r.headers = headers
    input_file = tmp_path / "records.txt"
    with open(input_file, "wb") as f:
        for r in records:
            f.write(r.key + b"\t" + r.value + b"\n")

    t0 = int(time.time() * 1000)
    cmd = ["kcat", "-P", "-b", broker.bootstrap, "-t", topic_name, "-K", "\t", "-l",
           "-X", "acks=all", "-X", "partitioner=murmur2_random", "-X", "linger.ms=20",
           "-X", "batch.num.messages=10000", "-X", "queue.buffering.max.messages=200000"]
    for k, v in headers:
        cmd += ["-H", f"{k}={v.decode()}"]
    prod = subprocess.run(cmd + [str(input_file)], capture_output=True, timeout=180)
    t1 = int(time.time() * 1000)
    assert prod.returncode == 0, f"kcat -P exited {prod.returncode}: {prod.stderr.decode()[-2000:]}"

    consumed = []
    for p in range(ROUNDTRIP_PARTITIONS):
        cons = subprocess.run(["kcat", "-C", "-b", broker.bootstrap, "-t", topic_name, "-p", str(p),
                               "-o", "beginning", "-e", "-J", "-q",
                               "-X", "fetch.wait.max.ms=100"],
                              capture_output=True, timeout=180)
        assert cons.returncode == 0, f"kcat -C -p {p} exited {cons.returncode}: {cons.stderr.decode()[-2000:]}"
        for line in cons.stdout.splitlines():
            m = json.loads(line)
            assert m["topic"] == topic_name and m["partition"] == p, m
            assert m["tstype"] == "create", m
            h = m.get("headers") or []
            hdrs = [(h[i], h[i + 1].encode()) for i in range(0, len(h), 2)]
            consumed.append((p, Record(m["key"].encode(), m["payload"].encode(), hdrs, m["ts"],
                                       m["offset"])))

    verify_roundtrip(records, consumed, ROUNDTRIP_PARTITIONS, check_timestamps=False,
                     timestamp_range=(t0, t1), client="kcat")
