"""TxnOffsetCommit (key 28) on the raw wire: v0-3 advertised, Kafka's error cases, and
transactional offsets staying invisible to OffsetFetch (UNSTABLE_OFFSET_COMMIT with OffsetFetch
v7 require_stable) until their transaction's marker, also after a broker restart. The COMMIT /
ABORT path with a real transactional producer needs the transaction coordinator and
WriteTxnMarkers (other branches); the group manager's side of it is unit-tested in
src/coordinator/group/txn_offsets_test.cc and src/server/log_internal_partition_test.cc."""

import struct
import time

import pytest

from groups import FAST_GROUPS
from kafkawire import KafkaConnection, Reader, compact_array as carr, compact_string as cstr, enc_array, enc_string

pytestmark = [pytest.mark.sluice_only, pytest.mark.broker_config(FAST_GROUPS)]

API_OFFSET_COMMIT = 8
API_OFFSET_FETCH = 9
API_TXN_OFFSET_COMMIT = 28

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
OFFSET_METADATA_TOO_LARGE = 12
COORDINATOR_LOAD_IN_PROGRESS = 14
INVALID_GROUP_ID = 24
UNKNOWN_MEMBER_ID = 25
INVALID_PRODUCER_EPOCH = 47
UNSTABLE_OFFSET_COMMIT = 88

PID = 424242


def flex(conn, key, version, body):
    """A flexible request (body + its empty tagged fields)."""
    return conn.flexible_request(key, version, body + b"\x00")


def txn_commit(conn, version, group, topics, epoch=0, producer_id=PID, member=None, generation=-1):
    """TxnOffsetCommit: topics = [(name, [(partition, offset, metadata)])].
    Returns {(topic, partition): error}."""
    if version >= 3:
        body = (cstr("txid") + cstr(group) + struct.pack(">qhi", producer_id, epoch, generation)
                + cstr(member or "") + cstr(None)
                + carr(topics, lambda t: cstr(t[0]) + carr(
                    t[1], lambda p: struct.pack(">iqi", p[0], p[1], 5)
                    + cstr(p[2]) + b"\x00") + b"\x00"))
        r = flex(conn, API_TXN_OFFSET_COMMIT, version, body)
        assert r.int32() == 0
        got = r.compact_array(lambda rr: (rr.compact_string(), rr.compact_array(
            lambda r3: (r3.int32(), r3.int16(), r3.tagged_fields())[:2]), rr.tagged_fields())[:2])
        r.done()
    else:
        def part(p):
            out = struct.pack(">iq", p[0], p[1])
            if version >= 2:
                out += struct.pack(">i", 5)
            return out + enc_string(p[2])
        body = (enc_string("txid") + enc_string(group) + struct.pack(">qh", producer_id, epoch)
                + enc_array(topics, lambda t: enc_string(t[0]) + enc_array(t[1], part)))
        r = Reader(conn.request(API_TXN_OFFSET_COMMIT, version, body))
        assert r.int32() == 0
        got = r.array(lambda r: (r.string(), r.array(lambda r: (r.int32(), r.int16()))))
        assert r.remaining() == 0
    return {(t, p): e for t, parts in got for p, e in parts}


def offset_fetch_v1(conn, group, topic, partitions):
    """{partition: (offset, error)}"""
    body = enc_string(group) + enc_array([topic], lambda t: enc_string(t) + enc_array(
        partitions, lambda p: struct.pack(">i", p)))
    r = Reader(conn.request(API_OFFSET_FETCH, 1, body))
    topics = r.array(lambda r: (r.string(), r.array(lambda r: (r.int32(), r.int64(), r.string(), r.int16()))))
    return {p: (off, err) for _, parts in topics for p, off, _, err in parts}


def offset_fetch_v7(conn, group, topic, partitions, require_stable):
    """{partition: (offset, metadata, error)}, group error"""
    body = (cstr(group) + carr([topic], lambda t: cstr(t) + carr(partitions, lambda p: struct.pack(">i", p)) + b"\x00")
            + (b"\x01" if require_stable else b"\x00"))
    r = flex(conn, API_OFFSET_FETCH, 7, body)
    r.int32()
    topics = r.compact_array(lambda rr: (rr.compact_string(), rr.compact_array(lambda r3: (
        r3.int32(), r3.int64(), r3.int32(), r3.compact_string(), r3.int16(), r3.tagged_fields())[:5]),
        rr.tagged_fields())[:2])
    err = r.int16()
    r.done()
    return {p: (off, md, e) for _, parts in topics for p, off, _, md, e in parts}, err


def offset_commit_v2(conn, group, topic, partition, offset):
    body = (enc_string(group) + struct.pack(">i", -1) + enc_string("") + struct.pack(">q", -1)
            + enc_array([topic], lambda t: enc_string(t) + enc_array(
                [partition], lambda p: struct.pack(">iq", p, offset) + enc_string(""))))
    r = Reader(conn.request(API_OFFSET_COMMIT, 2, body))
    (_, [(_, err)]), = r.array(lambda r: (r.string(), r.array(lambda r: (r.int32(), r.int16()))))
    return err


def wait_coordinator(conn, group, topic):
    """FindCoordinator creates __consumer_offsets; retries while the partition loads."""
    assert struct.unpack_from(">h", conn.request(10, 0, enc_string(group)))[0] == 0
    deadline = time.monotonic() + 15
    while offset_fetch_v1(conn, group, topic, [0])[0][1] == COORDINATOR_LOAD_IN_PROGRESS:
        assert time.monotonic() < deadline, "coordinator did not load"
        time.sleep(0.1)


def test_txn_offset_commit_is_advertised_0_to_3(broker):
    with KafkaConnection(broker.host, broker.port) as conn:
        err, apis = conn.api_versions()
        assert err == 0
        assert apis[API_TXN_OFFSET_COMMIT] == (0, 3)


def test_txn_offset_commit_errors(broker, topic_name):
    broker.create_topic(topic_name, 2)
    with KafkaConnection(broker.host, broker.port) as conn:
        wait_coordinator(conn, "tg", topic_name)
        # Empty group id: INVALID_GROUP_ID for every partition, at every version.
        for v in range(4):
            assert txn_commit(conn, v, "", [(topic_name, [(0, 1, None)])]) == {(topic_name, 0): INVALID_GROUP_ID}
        # Unknown topic / partition: UNKNOWN_TOPIC_OR_PARTITION beside the accepted partition.
        got = txn_commit(conn, 0, "tg", [(topic_name, [(0, 10, "m"), (7, 1, None)]), ("no-such-topic", [(0, 1, None)])])
        assert got == {(topic_name, 0): NONE, (topic_name, 7): UNKNOWN_TOPIC_OR_PARTITION,
                       ("no-such-topic", 0): UNKNOWN_TOPIC_OR_PARTITION}
        # Metadata above offset.metadata.max.bytes (4096): that partition only.
        got = txn_commit(conn, 2, "tg", [(topic_name, [(0, 11, "x" * 4097), (1, 5, None)])])
        assert got == {(topic_name, 0): OFFSET_METADATA_TOO_LARGE, (topic_name, 1): NONE}
        # A newer epoch of the producer was written: the older one is fenced.
        assert txn_commit(conn, 1, "tg", [(topic_name, [(0, 12, None)])], epoch=3) == {(topic_name, 0): NONE}
        assert txn_commit(conn, 1, "tg", [(topic_name, [(0, 13, None)])], epoch=2) == \
            {(topic_name, 0): INVALID_PRODUCER_EPOCH}
        # v3 membership checks (KIP-447): a member of a group that has none, with a generation.
        got = txn_commit(conn, 3, "tg", [(topic_name, [(0, 14, None)])], epoch=3, member="ghost", generation=1)
        assert got == {(topic_name, 0): UNKNOWN_MEMBER_ID}
        # v3 without member and generation: accepted like v0-2.
        assert txn_commit(conn, 3, "tg", [(topic_name, [(1, 15, "v3")])], epoch=3) == {(topic_name, 1): NONE}


def test_pending_txn_offsets_are_invisible_and_unstable(broker, topic_name):
    broker.create_topic(topic_name, 2)
    with KafkaConnection(broker.host, broker.port) as conn:
        wait_coordinator(conn, "pg", topic_name)
        assert offset_commit_v2(conn, "pg", topic_name, 0, 5) == NONE
        assert txn_commit(conn, 3, "pg", [(topic_name, [(0, 50, "txn")])]) == {(topic_name, 0): NONE}

        def check():
            # Older OffsetFetch versions, and v7 without require_stable: the committed value.
            assert offset_fetch_v1(conn, "pg", topic_name, [0, 1]) == {0: (5, NONE), 1: (-1, NONE)}
            got, err = offset_fetch_v7(conn, "pg", topic_name, [0, 1], False)
            assert (got, err) == ({0: (5, "", NONE), 1: (-1, "", NONE)}, NONE)
            # require_stable: the pending partition is UNSTABLE_OFFSET_COMMIT, the other is stable.
            got, err = offset_fetch_v7(conn, "pg", topic_name, [0, 1], True)
            assert (got, err) == ({0: (-1, "", UNSTABLE_OFFSET_COMMIT), 1: (-1, "", NONE)}, NONE)

        check()
    # Reloaded from __consumer_offsets: still pending (no marker in the log).
    broker.restart()
    with KafkaConnection(broker.host, broker.port) as conn:
        deadline = time.monotonic() + 15
        while offset_fetch_v1(conn, "pg", topic_name, [0])[0][1] == COORDINATOR_LOAD_IN_PROGRESS:
            assert time.monotonic() < deadline, "coordinator did not load after the restart"
            time.sleep(0.1)
        check()
