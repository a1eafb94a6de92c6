"""kafka-python 2.0.2 (pure Python; picks its request versions from its ApiVersions probe):
100,000 keyed records with headers and explicit timestamps at acks=all into a 6-partition topic,
consumed back by partition assignment (group_id=None: no group coordinator involved)."""

import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

from roundtrip import ROUNDTRIP_PARTITIONS, make_dataset, verify_roundtrip
from kafkawire import Record


def test_kafka_python_roundtrip(broker, topic_name):
    if broker.is_mock:
        broker.create_topic(topic_name, ROUNDTRIP_PARTITIONS)  # the mock has no CreateTopics
    else:
        admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=30000)
        try:
            resp = admin.create_topics([NewTopic(topic_name, ROUNDTRIP_PARTITIONS, 1)],
                                       timeout_ms=30000)
            errors = [t[1] for t in resp.topic_errors]
            assert errors == [0], f"CreateTopics answered {resp.topic_errors}"
        finally:
            admin.close()
        broker.wait_for_topic(topic_name, ROUNDTRIP_PARTITIONS)

    records = make_dataset("kafka-python")
    # kafka-python's DefaultPartitioner is Java's murmur2 partitioner.
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", linger_ms=20,
                             batch_size=256 * 1024, buffer_memory=64 * 1024 * 1024,
                             max_block_ms=60000, request_timeout_ms=30000)
    try:
        futures = [producer.send(topic_name, key=r.key, value=r.value, headers=r.headers,
                                 timestamp_ms=r.timestamp) for r in records]
        producer.flush(timeout=90)
        metas = [f.get(timeout=1) for f in futures]
    finally:
        producer.close(timeout=10)
    acked = [(m.partition, m.offset) for m in metas]

    consumer = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=None,
                             enable_auto_commit=False, max_poll_records=20000,
                             fetch_max_wait_ms=100, request_timeout_ms=30000)
    consumed = []
    try:
        tps = [TopicPartition(topic_name, p) for p in range(ROUNDTRIP_PARTITIONS)]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, 0)
        ends = consumer.end_offsets(tps)
        pos = {tp: 0 for tp in tps}
        last_progress = time.monotonic()
        while any(pos[tp] < ends[tp] for tp in tps):
            assert time.monotonic() - last_progress < 20, \
                f"consume: no progress for 20 s at {pos}, end offsets {ends}"
            polled = consumer.poll(timeout_ms=500)
            if polled:
                last_progress = time.monotonic()
            for tp, msgs in polled.items():
                for m in msgs:
                    if m.offset >= ends[tp]:
                        continue
                    consumed.append((m.partition, Record(m.key, m.value, list(m.headers),
                                                         m.timestamp, m.offset)))
                    pos[tp] = m.offset + 1
    finally:
        consumer.close(autocommit=False)

    verify_roundtrip(records, consumed, ROUNDTRIP_PARTITIONS, client="kafka-python")
    at = {(p, r.offset): r.key for p, r in consumed}
    wrong = [(i, a) for i, a in enumerate(acked) if at.get(a) != records[i].key]
    assert not wrong, f"{len(wrong)} records not at their acknowledged (partition, offset), first {wrong[:3]}"
