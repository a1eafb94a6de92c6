"""Raw Produce v3..v7 requests built byte by byte: valid batches are appended at the offsets
the broker acknowledges and read back exactly; a batch with a wrong CRC-32C gets
CORRUPT_MESSAGE (2) and appends nothing."""

import pytest

from clients import consume_confluent
from kafkawire import (CORRUPT_MESSAGE, KafkaConnection, Record, build_batch, fetch_all_batches)

VERSIONS = [3, 4, 5, 6, 7]


def batch_records(version, n=3):
    return [Record(f"v{version}-k{i}".encode(), f"value {i} at Produce v{version}".encode(),
                   [("version", str(version).encode()), ("i", str(i).encode())],
                   1_700_000_000_000 + 1000 * version + i) for i in range(n)]


def test_raw_produce_valid_batches(broker, topic_name):
    broker.create_topic(topic_name, 1)
    expected = []
    with KafkaConnection(broker.host, broker.port) as conn:
        for version in VERSIONS:
            recs = batch_records(version)
            err, base = conn.produce(topic_name, 0, build_batch(recs), acks=-1, version=version)
            assert (err, base) == (0, len(expected)), f"Produce v{version}"
            expected += recs
            assert conn.list_offsets(topic_name, 0, -1) == (0, len(expected))
        batches = fetch_all_batches(conn, topic_name, 0)
    assert [b.base_offset for b in batches] == [3 * i for i in range(len(VERSIONS))]
    assert all(b.crc_ok for b in batches)
    consumed = consume_confluent(broker.bootstrap, topic_name, 1)
    got = [(r.offset, r.key, r.value, r.headers, r.timestamp) for _, r in consumed]
    want = [(i, r.key, r.value, r.headers, r.timestamp) for i, r in enumerate(expected)]
    assert got == want


@pytest.mark.sluice_only  # the librdkafka mock does not validate CRCs
def test_corrupt_crc_gets_corrupt_message(broker, topic_name):
    broker.create_topic(topic_name, 1)
    appended = 0
    with KafkaConnection(broker.host, broker.port) as conn:
        for version in VERSIONS:
            err, base = conn.produce(topic_name, 0, build_batch(batch_records(version)),
                                     acks=-1, version=version)
            assert (err, base) == (0, appended), f"valid batch, Produce v{version}"
            appended += 3
            bad = build_batch(batch_records(version, n=2), corrupt_crc=True)
            err, _ = conn.produce(topic_name, 0, bad, acks=-1, version=version)
            assert err == CORRUPT_MESSAGE, f"Produce v{version} with a bad CRC: error {err}, expected 2"
            assert conn.list_offsets(topic_name, 0, -1) == (0, appended), \
                f"latest offset moved after a rejected batch (Produce v{version})"
            # acks=1 takes the same validation path.
            err, _ = conn.produce(topic_name, 0, bad, acks=1, version=version)
            assert err == CORRUPT_MESSAGE, f"Produce v{version} acks=1 with a bad CRC: error {err}"
        batches = fetch_all_batches(conn, topic_name, 0)
    assert sum(b.records_count for b in batches) == appended
    assert all(b.crc_ok for b in batches)
