"""Transactions, partition side (issue 8): crafted transactional batches, WriteTxnMarkers,
read_committed Fetch (last stable offset + aborted transactions), ListOffsets by isolation level
and DescribeProducers, on raw Kafka requests; the state survives a clean restart and a SIGKILL.

The producer ids come from InitProducerId without a transactional id (the coordinator side is
another part of issue 8); Produce carries a transactional id and the batches the isTransactional
bit, as a transactional client sends them. Without a transaction coordinator registered as the
KIP-890 verifier, the broker appends them.
"""

import struct
import time

import pytest

from kafkawire import (KafkaConnection, Reader, Record, build_batch, compact_array, compact_string,
                       enc_array, enc_bytes, enc_string, parse_batches)

API_PRODUCE, API_FETCH, API_LIST_OFFSETS = 0, 1, 2
API_INIT_PRODUCER_ID, API_WRITE_TXN_MARKERS, API_DESCRIBE_PRODUCERS = 22, 27, 61

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_PRODUCER_EPOCH = 47
TRANSACTION_COORDINATOR_FENCED = 52
TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53
INVALID_TXN_STATE = 48
TXN_ID = "txn-partition-test"


def init_producer_id(conn):
    """InitProducerId v1 without a transactional id: (producer_id, epoch)."""
    r = Reader(conn.request(API_INIT_PRODUCER_ID, 1, enc_string(None) + struct.pack(">i", 60000)))
    r.int32()
    err, pid, epoch = r.int16(), r.int64(), r.int16()
    assert err == NONE, err
    return pid, epoch


def batch(values, pid=-1, epoch=-1, seq=-1, transactional=False):
    now = int(time.time() * 1000)
    return build_batch([Record(None, v, [], now) for v in values], attributes=0x10 if transactional else 0,
                       producer_id=pid, producer_epoch=epoch, base_sequence=seq)


def produce(conn, topic, records, transactional_id=None, version=7, partition=0):
    """Produce v3-v7 to one partition with acks=-1: (error_code, base_offset)."""
    body = enc_string(transactional_id) + struct.pack(">hi", -1, 10000)
    body += enc_array([topic], lambda t: enc_string(t) + enc_array(
        [partition], lambda p: struct.pack(">i", p) + enc_bytes(records)))
    r = Reader(conn.request(API_PRODUCE, version, body))
    (_, parts), = r.array(lambda r: (r.string(), r.array(
        lambda r: (r.int32(), r.int16(), r.int64(), r.int64(), r.int64()))))
    (_, err, base, _, _), = parts
    return err, base


def write_txn_markers(conn, markers, version=0):
    """WriteTxnMarkers v0 (v1 flexible). markers: [(pid, epoch, commit, coordinator_epoch,
    {topic: [partitions]})]. Returns {pid: {(topic, partition): error}}."""
    def marker_v0(m):
        pid, epoch, commit, cepoch, topics = m
        return (struct.pack(">qhb", pid, epoch, 1 if commit else 0)
                + enc_array(list(topics.items()), lambda t: enc_string(t[0]) + enc_array(
                    t[1], lambda p: struct.pack(">i", p)))
                + struct.pack(">i", cepoch))

    def marker_v1(m):
        pid, epoch, commit, cepoch, topics = m
        return (struct.pack(">qhb", pid, epoch, 1 if commit else 0)
                + compact_array(list(topics.items()), lambda t: compact_string(t[0]) + compact_array(
                    t[1], lambda p: struct.pack(">i", p)) + b"\x00")
                + struct.pack(">i", cepoch) + b"\x00")

    if version == 0:
        r = Reader(conn.request(API_WRITE_TXN_MARKERS, 0, enc_array(markers, marker_v0)))
        out = {}
        for pid, topics in r.array(lambda r: (r.int64(), r.array(lambda r: (r.string(), r.array(
                lambda r: (r.int32(), r.int16())))))):
            out[pid] = {(t, p): e for t, parts in topics for p, e in parts}
        assert r.remaining() == 0
        return out
    r = conn.flexible_request(API_WRITE_TXN_MARKERS, 1, compact_array(markers, marker_v1) + b"\x00")

    def partition(r):
        p, e = r.int32(), r.int16()
        r.tagged_fields(skip=True)
        return p, e

    def topic(r):
        name, parts = r.compact_string(), r.compact_array(partition)
        r.tagged_fields(skip=True)
        return name, parts

    def marker(r):
        pid, topics = r.int64(), r.compact_array(topic)
        r.tagged_fields(skip=True)
        return pid, {(t, p): e for t, parts in topics for p, e in parts}

    out = dict(r.compact_array(marker))
    r.done(skip=True)
    return out


def fetch(conn, topic, offset, isolation_level, version=4):
    """Fetch v4 (or v5-v11, same partition layout plus log_start_offset / preferred replica) of
    partition 0: (error, high_watermark, last_stable_offset, [(pid, first_offset)] or None,
    record bytes)."""
    body = struct.pack(">iiiib", -1, 100, 1, 1 << 20, isolation_level)
    if version >= 7:
        body += struct.pack(">ii", 0, -1)  # session id, epoch
    part = struct.pack(">i", 0) + (struct.pack(">i", -1) if version >= 9 else b"") + struct.pack(">q", offset)
    part += (struct.pack(">q", -1) if version >= 5 else b"") + struct.pack(">i", 1 << 20)
    body += enc_array([topic], lambda t: enc_string(t) + enc_array([0], lambda p: part))
    if version >= 7:
        body += enc_array([], None)  # forgotten topics
    if version >= 11:
        body += enc_string("")  # rack id
    r = Reader(conn.request(API_FETCH, version, body))
    r.int32()  # throttle
    if version >= 7:
        r.int16(), r.int32()

    def partition(r):
        r.int32()  # partition index
        err, hw, lso = r.int16(), r.int64(), r.int64()
        if version >= 5:
            r.int64()
        aborted = r.array(lambda r: (r.int64(), r.int64()))
        if version >= 11:
            r.int32()
        return err, hw, lso, aborted, r.bytes_() or b""

    (_, parts), = r.array(lambda r: (r.string(), r.array(partition)))
    assert r.remaining() == 0
    return parts[0]


def list_offsets(conn, topic, isolation_level, timestamp=-1):
    """ListOffsets v2 of partition 0: (error, offset)."""
    body = struct.pack(">ib", -1, isolation_level) + enc_array([topic], lambda t: enc_string(t) + enc_array(
        [0], lambda p: struct.pack(">iq", p, timestamp)))
    r = Reader(conn.request(API_LIST_OFFSETS, 2, body))
    r.int32()
    (_, parts), = r.array(lambda r: (r.string(), r.array(lambda r: (r.int32(), r.int16(), r.int64(), r.int64()))))
    (_, err, _, offset), = parts
    return err, offset


def describe_producers(conn, topic, partitions):
    """DescribeProducers v0: {partition: (error, [(pid, epoch, last_seq, coordinator_epoch,
    current_txn_start_offset)])}."""
    body = compact_array([topic], lambda t: compact_string(t) + compact_array(
        partitions, lambda p: struct.pack(">i", p)) + b"\x00") + b"\x00"
    r = conn.flexible_request(API_DESCRIBE_PRODUCERS, 0, body)
    r.int32()

    def producer(r):
        pid, epoch, seq = r.int64(), r.int32(), r.int32()
        r.int64()  # last timestamp
        cepoch, start = r.int32(), r.int64()
        r.tagged_fields(skip=True)
        return pid, epoch, seq, cepoch, start

    def partition(r):
        idx, err = r.int32(), r.int16()
        r.compact_string()  # error message
        producers = r.compact_array(producer)
        r.tagged_fields(skip=True)
        return idx, (err, producers)

    def topic(r):
        r.compact_string()
        parts = r.compact_array(partition)
        r.tagged_fields(skip=True)
        return parts

    out = {idx: state for parts in r.compact_array(topic) for idx, state in parts}
    r.done(skip=True)
    return out


def control_offsets(records):
    return [b.base_offset for b in parse_batches(records, decode_records=False) if b.attributes & 0x20]


def values(records):
    return [r.value for b in parse_batches(records) if not b.attributes & 0x20 for r in b.records]


# The markers here are written by hand, with no transaction coordinator behind the producers, so
# the coordinator's check of a producer's first transactional batch (KIP-890) is switched off.
@pytest.mark.sluice_only
@pytest.mark.broker_config({"transaction.partition.verification.enable": "false"})
def test_markers_lso_and_read_committed_fetch(broker, topic_name):
    broker.create_topic(topic_name, 1)
    with KafkaConnection(broker.host, broker.port) as conn:
        assert API_WRITE_TXN_MARKERS in conn.api_versions()[1]
        p1, e1 = init_producer_id(conn)
        p2, e2 = init_producer_id(conn)
        assert produce(conn, topic_name, batch([b"a"])) == (NONE, 0)
        # p1's transaction: offsets 1-2. A transactional batch needs a transactional id.
        assert produce(conn, topic_name, batch([b"x"], p1, e1, 0, True))[0] == TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        assert produce(conn, topic_name, batch([b"p1-0", b"p1-1"], p1, e1, 0, True), TXN_ID) == (NONE, 1)
        assert produce(conn, topic_name, batch([b"b"])) == (NONE, 3)
        # A plain batch of a producer inside its transaction is refused.
        assert produce(conn, topic_name, batch([b"y"], p1, e1, 2, False))[0] == INVALID_TXN_STATE

        err, hw, lso, aborted, records = fetch(conn, topic_name, 0, 1)
        assert (err, hw, lso, aborted) == (NONE, 4, 1, [])
        assert values(records) == [b"a"]  # read_committed stops at the LSO
        err, hw, lso, aborted, records = fetch(conn, topic_name, 0, 0)
        assert (err, hw, lso, aborted) == (NONE, 4, 1, None)
        assert values(records) == [b"a", b"p1-0", b"p1-1", b"b"]
        assert list_offsets(conn, topic_name, 1) == (NONE, 1)
        assert list_offsets(conn, topic_name, 0) == (NONE, 4)

        # Abort p1 (marker at 4); p2 commits a transaction at 5-6 (marker at 7).
        assert write_txn_markers(conn, [(p1, e1, False, 3, {topic_name: [0]})]) == {p1: {(topic_name, 0): NONE}}
        assert produce(conn, topic_name, batch([b"p2-0", b"p2-1"], p2, e2, 0, True), TXN_ID) == (NONE, 5)
        assert write_txn_markers(conn, [(p2, e2, True, 3, {topic_name: [0]})], version=1) == {
            p2: {(topic_name, 0): NONE}}
        err, hw, lso, aborted, records = fetch(conn, topic_name, 0, 1)
        assert (err, hw, lso, aborted) == (NONE, 8, 8, [(p1, 1)])
        assert values(records) == [b"a", b"p1-0", b"p1-1", b"b", b"p2-0", b"p2-1"]
        assert control_offsets(records) == [4, 7]
        # From offset 5 on no aborted transaction overlaps; Fetch v11 agrees with v4.
        assert fetch(conn, topic_name, 5, 1)[3] == []
        assert fetch(conn, topic_name, 0, 1, version=11)[:4] == (NONE, 8, 8, [(p1, 1)])
        assert list_offsets(conn, topic_name, 1) == (NONE, 8)

        # Retried marker: written, no second aborted transaction. Older epochs and coordinator
        # epochs are fenced; unknown partitions named.
        assert write_txn_markers(conn, [(p1, e1, False, 3, {topic_name: [0]})]) == {p1: {(topic_name, 0): NONE}}
        assert write_txn_markers(conn, [(p1, e1 + 1, False, 3, {topic_name: [0]})])[p1][(topic_name, 0)] == NONE
        assert write_txn_markers(conn, [(p1, e1, False, 3, {topic_name: [0]})])[p1][(topic_name, 0)] == \
            INVALID_PRODUCER_EPOCH
        assert write_txn_markers(conn, [(p2, e2, True, 2, {topic_name: [0]})])[p2][(topic_name, 0)] == \
            TRANSACTION_COORDINATOR_FENCED
        assert write_txn_markers(conn, [(p2, e2, True, 3, {topic_name: [0, 7], "no-such-topic": [0]})]) == {
            p2: {(topic_name, 0): NONE, (topic_name, 7): UNKNOWN_TOPIC_OR_PARTITION,
                 ("no-such-topic", 0): UNKNOWN_TOPIC_OR_PARTITION}}
        end = fetch(conn, topic_name, 0, 0)[1]
        assert end == 11
        assert fetch(conn, topic_name, 0, 1)[3] == [(p1, 1)]

        # p2 opens another transaction: the LSO stops there again.
        assert produce(conn, topic_name, batch([b"p2-2"], p2, e2, 2, True), TXN_ID) == (NONE, 11)
        assert fetch(conn, topic_name, 0, 1)[1:3] == (12, 11)
        producers = describe_producers(conn, topic_name, [0, 3])
        assert producers[3] == (UNKNOWN_TOPIC_OR_PARTITION, [])
        err, states = producers[0]
        assert err == NONE
        assert sorted(states) == sorted([(p1, e1 + 1, -1, 3, -1), (p2, e2, 2, 3, 11)])

    # The open transaction, the aborted one and the epochs survive a clean restart and a crash.
    for crash in (False, True):
        if crash:
            broker.kill()
        broker.restart()
        broker.wait_for_topic(topic_name, 1)
        with KafkaConnection(broker.host, broker.port) as conn:
            err, hw, lso, aborted, records = fetch(conn, topic_name, 0, 1)
            assert (err, hw, lso, aborted) == (NONE, 12, 11, [(p1, 1)]), crash
            assert describe_producers(conn, topic_name, [0])[0][1] == sorted(
                [(p1, e1 + 1, -1, 3, -1), (p2, e2, 2, 3, 11)])
    with KafkaConnection(broker.host, broker.port) as conn:
        # Abort p2's open transaction: LSO catches up, two aborted transactions.
        assert write_txn_markers(conn, [(p2, e2, False, 3, {topic_name: [0]})])[p2][(topic_name, 0)] == NONE
        err, hw, lso, aborted, records = fetch(conn, topic_name, 0, 1)
        assert (hw, lso, aborted) == (13, 13, [(p1, 1), (p2, 11)])
        assert fetch(conn, topic_name, 8, 1)[3] == [(p2, 11)]
