"""Produce/consume helpers built on confluent-kafka-python (librdkafka), shared by several tests.

Consumers use manual assignment only (no consumer groups): they read every partition from
offset 0 up to the high watermark taken when consumption starts.
"""

import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from kafkawire import Record


def producer_config(bootstrap, **overrides):
    conf = {
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "partitioner": "murmur2_random",  # Java-compatible keyed partitioning
        "linger.ms": 20,
        "batch.num.messages": 10000,
        "queue.buffering.max.messages": 500000,
        "queue.buffering.max.kbytes": 1048576,
        "message.timeout.ms": 30000,
    }
    conf.update(overrides)
    return conf


def produce_confluent(bootstrap, topic, records, timeout=90, **overrides):
    """Produces records in order; returns [(partition, offset)] per record from delivery reports.

    Raises if any delivery failed or the flush timed out.
    """
    p = Producer(producer_config(bootstrap, **overrides))
    reports = [None] * len(records)
    errors = []

    def make_cb(i):
        def cb(err, msg):
            if err is not None:
                errors.append((i, err))
            else:
                reports[i] = (msg.partition(), msg.offset())
        return cb

    for i, r in enumerate(records):
        while True:
            try:
                p.produce(topic, key=r.key, value=r.value, headers=r.headers or None,
                          timestamp=r.timestamp, on_delivery=make_cb(i))
                break
            except BufferError:
                p.poll(0.05)
        if i % 1000 == 0:
            p.poll(0)
    left = p.flush(timeout)
    assert left == 0, f"{left} records still undelivered after {timeout}s"
    assert not errors, f"{len(errors)} delivery failures, first: record {errors[0][0]}: {errors[0][1]}"
    return reports


def consumer_config(bootstrap, **overrides):
    conf = {
        "bootstrap.servers": bootstrap,
        # confluent-kafka-python 1.7 insists on a group.id; it is never used: we only assign().
        "group.id": "sluice-itest-unused",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": False,
        "fetch.wait.max.ms": 100,
    }
    conf.update(overrides)
    return conf


def high_watermarks(consumer, topic, partitions, timeout=10):
    out = {}
    for p in range(partitions):
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
        out[p] = high
    return out


def consume_confluent(bootstrap, topic, partitions, stall_timeout=20, ends=None, **overrides):
    """Reads every partition from offset 0 to its high watermark (or `ends[p]`); fails when no
    record arrives for stall_timeout seconds.

    Returns [(partition, Record)] in consumption order (offset order within a partition).
    """
    c = Consumer(consumer_config(bootstrap, **overrides))
    try:
        if ends is None:
            ends = high_watermarks(c, topic, partitions)
        c.assign([TopicPartition(topic, p, 0) for p in range(partitions) if ends[p] > 0])
        pos = {p: 0 for p in range(partitions)}
        out = []
        last_progress = time.monotonic()
        while any(pos[p] < ends[p] for p in pos):
            if time.monotonic() - last_progress > stall_timeout:
                raise AssertionError(f"consume {topic}: no progress for {stall_timeout}s at "
                                     f"positions {pos}, high watermarks {ends}")
            batch = c.consume(num_messages=10000, timeout=0.5)
            if batch:
                last_progress = time.monotonic()
            for m in batch:
                if m.error():
                    raise KafkaException(m.error())
                p = m.partition()
                if m.offset() >= ends[p]:
                    continue
                out.append((p, Record(m.key(), m.value(), list(m.headers() or []),
                                      m.timestamp()[1], m.offset())))
                pos[p] = m.offset() + 1
        return out
    finally:
        c.close()
