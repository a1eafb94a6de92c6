"""Raw group requests at the flexible versions no installed client library sends
(@platformatic/kafka 1.35 does): JoinGroup v6 (MEMBER_ID_REQUIRED), SyncGroup v4, Heartbeat v4,
OffsetCommit v8, OffsetFetch v8 (batched groups), LeaveGroup v4; and JoinGroup v0 (no
rebalance timeout)."""

import struct
import time

import pytest

from groups import FAST_GROUPS
from kafkawire import KafkaConnection, compact_array as carr, compact_string as cstr, enc_string

pytestmark = [pytest.mark.sluice_only, pytest.mark.broker_config(FAST_GROUPS)]


def flex(conn, key, version, body):
    """A flexible request (body + its empty tagged fields). Strings in the responses are read as
    raw bytes (compact_bytes: the same encoding as compact_string), as the assertions expect."""
    return conn.flexible_request(key, version, body + b"\x00")


def join_v6(conn, member_id):
    body = (cstr("fg") + struct.pack(">ii", 6000, 10000) + cstr(member_id) + cstr(None) + cstr("consumer")
            + carr([("range", b"meta")], lambda p: cstr(p[0]) + cstr(p[1]) + b"\x00"))
    r = flex(conn, 11, 6, body)
    r.int32()
    error, generation = r.int16(), r.int32()
    protocol, leader, me = r.compact_bytes(), r.compact_bytes(), r.compact_bytes()
    members = r.compact_array(lambda rr: (rr.compact_bytes(), rr.compact_bytes(), rr.compact_bytes(),
                                          rr.tagged_fields())[:3])
    r.done()
    return error, generation, protocol, leader, me.decode(), members


def test_flexible_group_versions(broker, topic_name):
    broker.create_topic(topic_name, 2)
    with KafkaConnection(broker.host, broker.port) as conn:
        # FindCoordinator v0 creates __consumer_offsets.
        assert struct.unpack_from(">h", conn.request(10, 0, enc_string("fg")))[0] == 0
        error = 14
        deadline = time.monotonic() + 10
        while error == 14 and time.monotonic() < deadline:  # COORDINATOR_LOAD_IN_PROGRESS
            error, _, _, _, member, _ = join_v6(conn, "")
        assert error == 79, "JoinGroup v6 from a new member: MEMBER_ID_REQUIRED"
        assert member.startswith("sluice-itest-")
        error, generation, protocol, leader, me, members = join_v6(conn, member)
        assert (error, generation, protocol) == (0, 1, b"range")
        assert leader.decode() == me == member
        assert members == [(member.encode(), None, b"meta")]

        # SyncGroup v4 with the leader's assignment.
        body = (cstr("fg") + struct.pack(">i", 1) + cstr(member) + cstr(None)
                + carr([(member, b"assign")], lambda a: cstr(a[0]) + cstr(a[1]) + b"\x00"))
        r = flex(conn, 14, 4, body)
        r.int32()
        assert r.int16() == 0
        assert r.compact_bytes() == b"assign"
        r.done()

        # Heartbeat v4: fine at generation 1, ILLEGAL_GENERATION at 7.
        for gen, want in ((1, 0), (7, 22)):
            r = flex(conn, 12, 4, cstr("fg") + struct.pack(">i", gen) + cstr(member) + cstr(None))
            r.int32()
            assert r.int16() == want
            r.done()

        # OffsetCommit v8: partition 0 commits, partition 9 does not exist.
        parts = [(0, 42, "md"), (9, 1, None)]
        body = (cstr("fg") + struct.pack(">i", 1) + cstr(member) + cstr(None)
                + carr([topic_name], lambda t: cstr(t) + carr(
                    parts, lambda p: struct.pack(">iqi", p[0], p[1], -1) + cstr(p[2]) + b"\x00") + b"\x00"))
        r = flex(conn, 8, 8, body)
        r.int32()
        topics = r.compact_array(lambda rr: (rr.compact_bytes(), rr.compact_array(
            lambda r3: (r3.int32(), r3.int16(), r3.tagged_fields())[:2]), rr.tagged_fields())[:2])
        r.done()
        assert topics == [(topic_name.encode(), [(0, 0), (9, 3)])]

        # OffsetFetch v8: two groups, one unknown; null topics = everything committed.
        body = carr([("fg", [(topic_name, [0, 1])]), ("nobody", None)],
                    lambda g: cstr(g[0]) + (b"\x00" if g[1] is None else carr(
                        g[1], lambda t: cstr(t[0]) + carr(t[1], lambda p: struct.pack(">i", p)) + b"\x00")) + b"\x00")
        r = flex(conn, 9, 8, body + b"\x00")  # + require_stable false
        r.int32()
        groups = r.compact_array(lambda rr: (
            rr.compact_bytes(),
            rr.compact_array(lambda r3: (r3.compact_bytes(), r3.compact_array(lambda r4: (
                r4.int32(), r4.int64(), r4.int32(), r4.compact_bytes(), r4.int16(), r4.tagged_fields())[:5]),
                r3.tagged_fields())[:2]),
            rr.int16(), rr.tagged_fields())[:3])
        r.done()
        assert groups == [(b"fg", [(topic_name.encode(), [(0, 42, -1, b"md", 0), (1, -1, -1, b"", 0)])], 0),
                          (b"nobody", [], 0)]

        # DescribeGroups v5 (flexible): Stable, the member with its metadata and assignment.
        r = flex(conn, 15, 5, carr(["fg", "nobody"], cstr) + b"\x01")  # include_authorized_operations
        r.int32()
        described = r.compact_array(lambda rr: (
            rr.int16(), rr.compact_bytes(), rr.compact_bytes(), rr.compact_bytes(), rr.compact_bytes(),
            rr.compact_array(lambda r3: (r3.compact_bytes(), r3.compact_bytes(), r3.compact_bytes(), r3.compact_bytes(),
                                         r3.compact_bytes(), r3.compact_bytes(), r3.tagged_fields())[:6]),
            rr.int32(), rr.tagged_fields())[:7])
        r.done()
        (err, gid, state, ptype, proto, members, ops), (err2, gid2, state2, _, _, members2, _) = described
        assert (err, gid, state, ptype, proto) == (0, b"fg", b"Stable", b"consumer", b"range")
        assert members == [(member.encode(), None, b"sluice-itest", b"/127.0.0.1", b"meta", b"assign")]
        assert ops != -2147483648
        assert (err2, gid2, state2, members2) == (0, b"nobody", b"Dead", [])

        # LeaveGroup v4 (batched): the member leaves, an unknown one is reported.
        body = cstr("fg") + carr([member, "ghost"], lambda m: cstr(m) + cstr(None) + b"\x00")
        r = flex(conn, 13, 4, body)
        r.int32()
        assert r.int16() == 0
        left = r.compact_array(lambda rr: (rr.compact_bytes(), rr.compact_bytes(), rr.int16(),
                                           rr.tagged_fields())[:3])
        r.done()
        assert left == [(member.encode(), None, 0), (b"ghost", None, 25)]


def test_join_group_v0_uses_session_timeout_as_rebalance_timeout(broker):
    with KafkaConnection(broker.host, broker.port) as conn:
        assert struct.unpack_from(">h", conn.request(10, 0, enc_string("old")))[0] == 0
        body = (enc_string("old") + struct.pack(">i", 6000) + enc_string("") + enc_string("consumer")
                + struct.pack(">i", 1) + enc_string("range") + struct.pack(">i", 2) + b"mm")
        deadline = time.monotonic() + 10
        while True:
            resp = conn.request(11, 0, body)
            error, generation = struct.unpack_from(">hi", resp)
            if error != 14 or time.monotonic() > deadline:
                break
        # v0 has no MEMBER_ID_REQUIRED: joined directly, after the initial delay.
        assert (error, generation) == (0, 1)
