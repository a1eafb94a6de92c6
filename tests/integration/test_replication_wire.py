"""Replication data plane on a single broker, with crafted requests (docs/replication.md):
OffsetForLeaderEpoch answers from the leader epoch cache, and a Fetch posing as a follower
replica that is not assigned to the partition is refused."""
import struct

from kafkawire import KafkaConnection, Reader, Record, build_batch, enc_array, enc_string

API_OFFSET_FOR_LEADER_EPOCH = 23
NONE, UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER = 0, 3, 6
FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH = 74, 75


def offset_for_leader_epoch(conn, topic, partition, leader_epoch, current_leader_epoch=-1, version=3):
    """OffsetForLeaderEpoch v2/v3 for one partition: (error, leader_epoch, end_offset)."""
    body = struct.pack(">i", -1) if version >= 3 else b""
    body += enc_array([topic], lambda t: enc_string(t) + enc_array(
        [partition], lambda p: struct.pack(">iii", p, current_leader_epoch, leader_epoch)))
    r = Reader(conn.request(API_OFFSET_FOR_LEADER_EPOCH, version, body))
    r.int32()  # throttle_time_ms
    topics = r.array(lambda r: (r.string(), r.array(lambda r: (r.int16(), r.int32(), r.int32(), r.int64()))))
    assert r.remaining() == 0
    (name, parts), = topics
    (err, idx, epoch, end), = parts
    assert name == topic and idx == partition
    return err, epoch, end


def follower_fetch_v4(conn, topic, partition, offset, replica_id):
    body = struct.pack(">iiiib", replica_id, 0, 1, 1 << 20, 0)
    body += enc_array([topic], lambda t: enc_string(t) + enc_array(
        [partition], lambda p: struct.pack(">iqi", p, offset, 1 << 20)))
    r = Reader(conn.request(1, 4, body))
    r.int32()
    topics = r.array(lambda r: (r.string(), r.array(lambda r: (
        r.int32(), r.int16(), r.int64(), r.int64(),
        r.array(lambda r: (r.int64(), r.int64())), r.bytes_()))))
    (_, parts), = topics
    (_, err, hw, _lso, _aborted, records), = parts
    return err, records or b""


def test_offset_for_leader_epoch_answers_from_the_epoch_cache(broker, topic_name):
    broker.create_topic(topic_name, 1)
    with KafkaConnection(broker.host, broker.port) as conn:
        _, versions = conn.api_versions()
        assert versions[API_OFFSET_FOR_LEADER_EPOCH] == (0, 4)
        for i in range(3):
            err, base = conn.produce(topic_name, 0, build_batch([Record(b"k", b"v%d" % i, [], 1_700_000_000_000),
                                                                 Record(b"k", b"w", [], 1_700_000_000_001)]))
            assert (err, base) == (NONE, 2 * i)
        # A new topic's leader epoch is 0: it ends at the log end (6), for v2 and v3.
        assert offset_for_leader_epoch(conn, topic_name, 0, 0, version=2) == (NONE, 0, 6)
        assert offset_for_leader_epoch(conn, topic_name, 0, 0, current_leader_epoch=0) == (NONE, 0, 6)
        # An epoch newer than any the leader knows: undefined, no error (Kafka's answer).
        assert offset_for_leader_epoch(conn, topic_name, 0, 7) == (NONE, -1, -1)
        # The client thinks the leader is in a newer epoch than it is.
        assert offset_for_leader_epoch(conn, topic_name, 0, 0, current_leader_epoch=3)[0] == UNKNOWN_LEADER_EPOCH
        assert offset_for_leader_epoch(conn, "no-such-topic-x", 0, 0)[0] == UNKNOWN_TOPIC_OR_PARTITION
        assert offset_for_leader_epoch(conn, topic_name, 5, 0)[0] == UNKNOWN_TOPIC_OR_PARTITION


def test_fetch_as_unassigned_replica_is_refused(broker, topic_name):
    broker.create_topic(topic_name, 1)
    with KafkaConnection(broker.host, broker.port) as conn:
        err, _ = conn.produce(topic_name, 0, build_batch([Record(b"k", b"v", [], 1_700_000_000_000)]))
        assert err == NONE
        # Replica 2 is not a replica of this partition: no records past (or below) the HW for it.
        err, records = follower_fetch_v4(conn, topic_name, 0, 0, replica_id=2)
        assert (err, records) == (NOT_LEADER_OR_FOLLOWER, b"")
        # A consumer fetch still sees the record.
        err, hw, records = conn.fetch(topic_name, 0, 0)
        assert (err, hw) == (NONE, 1) and len(records) > 0
