"""acks=0 and acks=1 produce: every record is readable afterwards; with acks=0 the broker sends
no Produce response at all (the next response on the connection answers the next request)."""

import time

import pytest

from clients import consume_confluent, produce_confluent
from kafkawire import KafkaConnection, Record, build_batch
from roundtrip import make_dataset, verify_roundtrip

PARTITIONS = 3


@pytest.mark.parametrize("acks", [0, 1])
def test_librdkafka_acks(broker, topic_name, acks):
    broker.create_topic(topic_name, PARTITIONS)
    records = make_dataset(f"acks{acks}", n=5000)
    reports = produce_confluent(broker.bootstrap, topic_name, records, acks=acks)
    if acks == 0:
        # flush() returns once the requests are written to the socket, not once the broker
        # appended them: wait (bounded) for the log end offsets to account for every record.
        deadline = time.monotonic() + 10
        with KafkaConnection(broker.host, broker.port) as conn:
            while True:
                ends = [conn.list_offsets(topic_name, p, -1)[1] for p in range(PARTITIONS)]
                if sum(ends) >= len(records) or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
    consumed = consume_confluent(broker.bootstrap, topic_name, PARTITIONS)
    verify_roundtrip(records, consumed, PARTITIONS, client=f"confluent-kafka-python acks={acks}")
    if acks == 1:
        at = {(p, r.offset): r.key for p, r in consumed}
        assert all(at.get(rep) == rec.key for rep, rec in zip(reports, records))


@pytest.mark.sluice_only  # librdkafka 2.0.2's mock answers acks=0 Produce requests
@pytest.mark.parametrize("version", [3, 4, 5, 6, 7])
def test_raw_acks0_sends_no_response(broker, topic_name, version):
    broker.create_topic(topic_name, 1)
    with KafkaConnection(broker.host, broker.port) as conn:
        for i in range(3):
            batch = build_batch([Record(b"k%d" % i, b"v%d" % i, [("h", b"x")], 1_700_000_000_000 + i)])
            assert conn.produce(topic_name, 0, batch, acks=0, version=version) is None
        # If the broker answered any acks=0 Produce, this reply would carry the wrong
        # correlation id and KafkaConnection.request raises.
        err, latest = conn.list_offsets(topic_name, 0, -1)
    assert (err, latest) == (0, 3)
