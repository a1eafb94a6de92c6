"""Workloads and checks shared by the fault tests: a continuously running idempotent producer
that records what was acknowledged, a reader of a whole partition, and replica log checksums."""

import glob
import hashlib
import os
import threading
import time

from kafkawire import parse_batches


class ContinuousProducer:
    """Produces "0", "1", "2", ... to one partition from a thread with an idempotent acks=all
    librdkafka producer until stop(); records the offsets the broker acknowledged."""

    def __init__(self, bootstrap, topic, partition=0, rate_per_s=500, extra_config=None):
        from confluent_kafka import Producer
        conf = {"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                "linger.ms": 5, "message.timeout.ms": 120000, "topic.metadata.refresh.interval.ms": 1000}
        conf.update(extra_config or {})
        self.producer = Producer(conf)
        self.topic, self.partition, self.rate = topic, partition, rate_per_s
        self.acked = {}          # value -> offset
        self.failed = {}         # value -> error
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def _on_delivery(self, err, msg):
        value = msg.value().decode()
        if err is None:
            self.acked[value] = msg.offset()
        else:
            self.failed[value] = err

    def _run(self):
        interval = 1.0 / self.rate
        next_send = time.monotonic()
        while not self._stop.is_set():
            try:
                self.producer.produce(self.topic, str(self.sent).encode(), partition=self.partition,
                                      on_delivery=self._on_delivery)
                self.sent += 1
            except BufferError:
                pass
            self.producer.poll(0)
            next_send += interval
            delay = next_send - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_send = time.monotonic()

    def acked_count(self):
        return len(self.acked)

    def wait_acked_more(self, than, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.acked) > than:
                return
            time.sleep(0.05)
        raise AssertionError(f"no new acknowledgement within {timeout}s (acked {len(self.acked)}, "
                             f"failed {len(self.failed)}: {list(self.failed.items())[:3]})")

    def stop(self, flush_timeout=120):
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join(10)
            left = self.producer.flush(flush_timeout)
            assert left == 0, f"{left} records still undelivered after {flush_timeout}s"


def read_partition(bootstrap, topic, partition=0, timeout=60):
    """All records of the partition below the high watermark, as [(offset, value)]."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"reader-{time.time()}",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "enable.partition.eof": True})
    try:
        low, high = c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        c.assign([TopicPartition(topic, partition, low)])
        out = []
        deadline = time.monotonic() + timeout
        while (not out or out[-1][0] < high - 1) and high > low:
            assert time.monotonic() < deadline, f"read {len(out)} records, last offset " \
                                                f"{out[-1][0] if out else None}, high watermark {high}"
            m = c.poll(1.0)
            if m is None or m.error():
                continue
            out.append((m.offset(), m.value().decode()))
        return out, high
    finally:
        c.close()


def assert_exactly_once_in_order(records, producer):
    values = [v for _, v in records]
    assert len(values) == len(set(values)), "duplicates in the log: " + \
        str(sorted({v for v in values if values.count(v) > 1}, key=int)[:10])
    ints = [int(v) for v in values]
    assert ints == sorted(ints), "records out of send order"
    present = set(values)
    lost = [v for v in producer.acked if v not in present]
    assert not lost, f"{len(lost)} acknowledged records lost, e.g. {sorted(lost, key=int)[:10]}"
    by_value = dict((v, o) for o, v in records)
    moved = [v for v, o in producer.acked.items() if by_value[v] != o]
    assert not moved, f"acknowledged offsets changed for {moved[:10]}"


def replica_checksum(broker, topic, partition, high_watermark):
    """SHA-256 of every batch (bytes as stored) below the high watermark in this broker's copy,
    and the number of batches; segments are read directly from its data directory."""
    pattern = os.path.join(broker.data_dir, f"{topic}-{partition}", "*.log")
    h = hashlib.sha256()
    batches = 0
    for path in sorted(glob.glob(pattern)):
        with open(path, "rb") as f:
            data = f.read()
        for b in parse_batches(data, check_crc=True, decode_records=False):
            if b.base_offset + b.last_offset_delta < high_watermark:
                h.update(b.raw)
                batches += 1
    return h.hexdigest(), batches
