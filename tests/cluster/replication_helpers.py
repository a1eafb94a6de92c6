"""Workloads and checks shared by the fault tests: a continuously running idempotent producer
that records what was acknowledged, a reader of a whole partition, and replica log checksums."""

import glob
import hashlib
import os
import threading
import time

from kafkawire import parse_batches


def _is_fatal(exc):
    from confluent_kafka import KafkaError
    err = exc.args[0]
    return err.fatal() or err.code() == KafkaError._FATAL


class ContinuousProducer:
    """Produces "0", "1", "2", ... to one partition from a thread with an idempotent acks=all
    librdkafka producer until stop(); records the offsets the broker acknowledged."""

    def __init__(self, bootstrap, topic, partition=0, rate_per_s=500, extra_config=None, tolerate_fatal=False):
        from confluent_kafka import Producer
        conf = {"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all",
                "linger.ms": 5, "message.timeout.ms": 120000, "topic.metadata.refresh.interval.ms": 1000}
        conf.update(extra_config or {})
        conf["error_cb"] = self._on_error
        self._conf = conf
        self._fatal = None       # a fatal error reported by the current producer
        self.producer = Producer(conf)
        self.topic, self.partition, self.rate = topic, partition, rate_per_s
        self.acked = {}          # value -> offset
        self.failed = {}         # value -> error
        self.fatal_errors = []   # fatal producer errors, each followed by a new producer
        self.tolerate_fatal = tolerate_fatal  # else a fatal error fails the run
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

    def _on_error(self, err):
        if err.fatal():
            self._fatal = err

    def _replace_after_fatal(self, error):
        """A fatal error ends a librdkafka producer; an application starts a new one, which is
        what this does. Messages the old one had not delivered fail (they are not acknowledged;
        whether they reached the log does not matter to the checks) and are not sent again.

        The one fatal error seen in these tests: librdkafka 2.0.2 (Debian 12) predates KIP-320's
        leader epochs in Metadata, so it believes a just-thawed deposed leader's stale Metadata
        answer, sends it the next sequence, and the deposed leader (whose log lacks the batches
        acknowledged by its successor) answers OUT_OF_ORDER_SEQUENCE_NUMBER, which librdkafka
        treats as fatal. Newer clients ignore metadata with an older leader epoch."""
        from confluent_kafka import KafkaException, Producer
        self.fatal_errors.append(str(error))
        self._fatal = None
        old, self.producer = self.producer, Producer(self._conf)
        try:
            old.purge()
            old.poll(0)  # delivery reports of what it had not delivered
        except KafkaException:
            pass  # the fatal error again

    def _run(self):
        from confluent_kafka import KafkaException
        interval = 1.0 / self.rate
        next_send = time.monotonic()
        while not self._stop.is_set():
            try:
                self.producer.produce(self.topic, str(self.sent).encode(), partition=self.partition,
                                      on_delivery=self._on_delivery)
                self.sent += 1
            except BufferError:
                pass
            except KafkaException as e:
                if not (self.tolerate_fatal and _is_fatal(e)):
                    self.failed[str(self.sent)] = e.args[0]
                    raise
                self._replace_after_fatal(e.args[0])
            self.producer.poll(0)
            if self._fatal is not None:
                if not self.tolerate_fatal:
                    self.failed["fatal"] = self._fatal
                    return
                self._replace_after_fatal(self._fatal)
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
        from confluent_kafka import KafkaException
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join(10)
            try:
                left = self.producer.flush(flush_timeout)
            except KafkaException as e:
                if not (self.tolerate_fatal and _is_fatal(e)):
                    raise
                self.fatal_errors.append(str(e.args[0]))
                return
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
