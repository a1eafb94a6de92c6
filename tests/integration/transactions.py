"""Helpers for the transaction tests (tests/integration/test_transactions.py and
tests/cluster/test_txn_failover.py): input records that name their place, librdkafka readers
for either isolation level, and tests/tools/txn_copier.py as a child process."""

import json
import os
import signal
import subprocess
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")
PYTHON = "/usr/bin/python3"  # Debian's confluent-kafka imports only here


def produce_input(bootstrap, topic, partitions, total):
    """total records spread evenly; value "<partition>:<index in partition>". Returns the values
    per partition in order."""
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                  "linger.ms": 20, "queue.buffering.max.messages": 500000})
    values = {i: [] for i in range(partitions)}
    failures = []
    for n in range(total):
        part = n % partitions
        v = f"{part}:{len(values[part])}"
        values[part].append(v)
        while True:
            try:
                p.produce(topic, key=str(n).encode(), value=v.encode(), partition=part,
                          on_delivery=lambda err, msg: err and failures.append(err))
                break
            except BufferError:
                p.poll(0.05)
    assert p.flush(120) == 0
    assert not failures, failures[:3]
    return values


def read_values(bootstrap, topic, partitions, isolation, expect, settle_s=3.0, stall_s=60.0):
    """Reads every partition from offset 0 with librdkafka until `expect` records arrived and then
    nothing more for settle_s. Returns {partition: [value, ...]} in offset order."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{time.monotonic_ns()}",
                  "isolation.level": isolation, "enable.auto.commit": False,
                  "enable.partition.eof": False})
    try:
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
        out = {p: [] for p in range(partitions)}
        count = 0
        last = time.monotonic()
        while True:
            msgs = c.consume(num_messages=10000, timeout=0.3)
            now = time.monotonic()
            for m in msgs:
                if m.error():
                    raise KafkaException(m.error())
                out[m.partition()].append(m.value().decode())
                count += 1
                last = now
            if count >= expect and now - last > settle_s:
                return out
            if count < expect and now - last > stall_s:
                raise AssertionError(f"{isolation} read of {topic}: {count} of {expect} records, "
                                     f"nothing new for {stall_s}s")
    finally:
        c.close()


class Copier:
    """tests/tools/txn_copier.py as a child process; stdout goes to a file we tail."""

    def __init__(self, workdir, args):
        self.args = args
        self.workdir = workdir
        self.starts = 0
        self.proc = None
        self.log_path = None

    def start(self):
        self.starts += 1
        self.log_path = os.path.join(self.workdir, f"copier-{self.starts}.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([PYTHON, os.path.join(TOOLS, "txn_copier.py"), *self.args],
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def lines(self):
        with open(self.log_path) as f:
            return [json.loads(l) for l in f if l.startswith("{")]

    def copied(self):
        got = [l["copied"] for l in self.lines() if "copied" in l]
        return got[-1] if got else 0

    def wait_copied(self, at_least, timeout=120):
        deadline = time.monotonic() + timeout
        while self.copied() < at_least:
            if self.proc.poll() is not None:
                raise AssertionError(f"copier exited {self.proc.returncode}: {self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"copier below {at_least} after {timeout}s: {self.tail()}")
            time.sleep(0.05)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.log.close()

    def wait_done(self, timeout=300):
        try:
            rc = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)
            self.log.close()
        assert rc == 0, f"copier exited {rc}: {self.tail()}"

    def tail(self):
        with open(self.log_path) as f:
            return f.read()[-3000:]

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
