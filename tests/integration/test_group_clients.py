"""Consumer groups with every client library: kafka-python, kafkajs and confluent-kafka-python
groups consume a topic fully and exactly once with commits, and a restarted group resumes at the
committed offsets. Admin views: ListGroups (state filter) and DescribeGroups, DeleteGroups and
OffsetDelete through raw requests and the clients' admin APIs."""

import json
import os
import struct
import subprocess
import threading
import time

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from groups import FAST_GROUPS, TrackedConsumer, balanced, consumer_conf, poll_until, produce_values
from kafkawire import KafkaConnection, Reader, enc_array, enc_string

HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(HERE, "js")

pytestmark = [pytest.mark.sluice_only, pytest.mark.broker_config(FAST_GROUPS)]


def fill(broker, topic, partitions, per_partition, start=0):
    """Creates the topic when start == 0, then appends per_partition records to every partition."""
    if start == 0:
        broker.create_topic(topic, partitions)
    for p in range(partitions):
        produce_values(broker.bootstrap, topic, [b"%d-%d" % (p, i) for i in range(start, start + per_partition)],
                       partition=p)


def assert_exactly(consumed, partitions, start, end):
    want = sorted((p, o) for p in range(partitions) for o in range(start, end))
    assert sorted(consumed) == want, (f"{len(consumed)} consumed, {len(set(consumed))} distinct, "
                                      f"want {len(want)}")


# -- confluent-kafka-python (librdkafka) ------------------------------------------------------

def test_confluent_group_consumes_exactly_once_with_commits(broker, topic_name):
    broker.create_topic(topic_name, 3)
    cs = [TrackedConsumer(broker.bootstrap, "cg", [topic_name], f"c{i}") for i in range(3)]
    try:
        poll_until(cs, lambda: balanced(cs, 3, [1, 1, 1]), 30, "1 partition each")
        # Records arrive once the group is stable: no rebalance can hand an uncommitted record
        # to another member (which would be at-least-once, not a broker fault).
        fill(broker, topic_name, 3, 50, start=1)
        poll_until(cs, lambda: sum(len(c.records) for c in cs) >= 150, 30, "150 records")
        for c in cs:
            c.consumer.commit(asynchronous=False)
    finally:
        for c in cs:
            c.close()
    assert_exactly([(p, o) for c in cs for p, o, _ in c.records], 3, 0, 50)
    for c in cs:  # each member read only its own partition
        assert len({p for p, _, _ in c.records}) == 1
    fill(broker, topic_name, 3, 10, start=51)
    c = TrackedConsumer(broker.bootstrap, "cg", [topic_name], "again")
    try:
        poll_until([c], lambda: len(c.records) >= 30, 30, "30 new records")
        end = time.monotonic() + 1
        while time.monotonic() < end:
            c.poll_once(0.05)
    finally:
        c.close()
    assert_exactly([(p, o) for p, o, _ in c.records], 3, 50, 60)


# -- kafka-python -----------------------------------------------------------------------------

class KafkaPythonMember(threading.Thread):
    """A kafka-python consumer polling and committing in its own thread (its poll blocks while
    the group rebalances, so members cannot share one thread)."""

    def __init__(self, broker, group, topic):
        super().__init__(daemon=True)
        from kafka import KafkaConsumer
        self.consumer = KafkaConsumer(topic, bootstrap_servers=broker.bootstrap, group_id=group,
                                      auto_offset_reset="earliest", enable_auto_commit=False,
                                      session_timeout_ms=6000, heartbeat_interval_ms=500,
                                      max_poll_interval_ms=10000, fetch_max_wait_ms=100)
        self.records = []
        self.partitions = frozenset()
        self.stop = threading.Event()
        self.error = None

    def run(self):
        try:
            while not self.stop.is_set():
                batch = self.consumer.poll(timeout_ms=100)
                for tp, msgs in batch.items():
                    self.records += [(tp.partition, m.offset) for m in msgs]
                if batch:
                    self.consumer.commit()
                self.partitions = frozenset(tp.partition for tp in self.consumer.assignment())
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            self.consumer.close()


def run_kafka_python_group(broker, topic, n, until, timeout=60):
    members = [KafkaPythonMember(broker, "kpg", topic) for _ in range(n)]
    for m in members:
        m.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not until(members):
            time.sleep(0.1)
        assert until(members), f"timed out: {[sorted(m.partitions) for m in members]}, " \
                               f"{sum(len(m.records) for m in members)} records"
    finally:
        for m in members:
            m.stop.set()
        for m in members:
            m.join(30)
    for m in members:
        assert m.error is None, m.error
    return members


def test_kafka_python_group_consumes_exactly_once_with_commits(broker, topic_name):
    broker.create_topic(topic_name, 4)

    def split(members):
        sets = [m.partitions for m in members]
        return sorted(len(s) for s in sets) == [2, 2] and len(sets[0] | sets[1]) == 4

    produced = threading.Event()

    def all_read(members):
        if split(members) and not produced.is_set():
            fill(broker, topic_name, 4, 25, start=1)
            produced.set()
        return produced.is_set() and sum(len(m.records) for m in members) >= 100

    members = run_kafka_python_group(broker, topic_name, 2, all_read)
    assert_exactly([r for m in members for r in m.records], 4, 0, 25)
    for m in members:
        assert len({p for p, _ in m.records}) == 2
    fill(broker, topic_name, 4, 5, start=26)
    members = run_kafka_python_group(broker, topic_name, 1, lambda ms: len(ms[0].records) >= 20)
    time.sleep(0.5)
    assert_exactly(members[0].records, 4, 25, 30)


# -- kafkajs ----------------------------------------------------------------------------------

def run_node(script, options, timeout=120):
    proc = subprocess.run(["node", os.path.join(JS_DIR, script), json.dumps(options)],
                          capture_output=True, timeout=timeout, cwd=JS_DIR)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


def test_kafkajs_group_consumes_exactly_once_with_commits(broker, topic_name):
    fill(broker, topic_name, 4, 25)
    out = run_node("kafkajs_group.js", {"bootstrap": broker.bootstrap, "topic": topic_name, "group": "jsg",
                                        "members": 2, "expect": 100, "timeoutMs": 60000})
    assert_exactly([(p, o) for p, o, _ in out["consumed"]], 4, 0, 25)
    assert {"groupId": "jsg", "protocolType": "consumer"} in out["listed"]
    (d,) = out["described"]
    assert (d["groupId"], d["state"], d["protocolType"], d["protocol"]) == ("jsg", "Stable", "consumer",
                                                                          "RoundRobinAssigner")
    assert len(d["members"]) == 2 and all(m["assignmentBytes"] > 0 for m in d["members"])
    fill(broker, topic_name, 4, 5, start=25)
    out = run_node("kafkajs_group.js", {"bootstrap": broker.bootstrap, "topic": topic_name, "group": "jsg",
                                        "members": 1, "expect": 20, "timeoutMs": 60000})
    assert_exactly([(p, o) for p, o, _ in out["consumed"]], 4, 25, 30)


# -- admin: ListGroups, DescribeGroups, DeleteGroups, OffsetDelete ---------------------------

def list_groups_v4(conn, states):
    """ListGroups v4 (flexible) with a state filter; returns [(group, protocol type, state)].
    Lengths here stay below 127, so every unsigned varint is one byte."""
    body = (b"\x00"  # request header v2 tagged fields (kafkawire writes header v1)
            + bytes([len(states) + 1]) + b"".join(bytes([len(s) + 1]) + s.encode() for s in states) + b"\x00")
    raw = conn.request(16, 4, body)
    pos = 1 + 4  # response header v1 tags, throttle_time_ms
    (error,) = struct.unpack_from(">h", raw, pos)
    pos += 2
    assert error == 0
    n = raw[pos] - 1
    pos += 1
    out = []
    for _ in range(n):
        fields = []
        for _ in range(3):
            ln = raw[pos] - 1
            fields.append(raw[pos + 1:pos + 1 + ln].decode())
            pos += 1 + ln
        pos += 1  # tags
        out.append(tuple(fields))
    return out


def test_list_describe_delete_groups_and_offset_delete(broker, topic_name):
    broker.create_topic(topic_name, 2)
    produce_values(broker.bootstrap, topic_name, [b"x"] * 4, partition=0)
    active = TrackedConsumer(broker.bootstrap, "active", [topic_name], "a")
    try:
        poll_until([active], lambda: active.assigned() == frozenset({0, 1}), 30, "assignment")
        # An offsets-only group: manual commits with generation -1.
        c = Consumer(consumer_conf(broker.bootstrap, "idle"))
        c.commit(offsets=[TopicPartition(topic_name, 0, 3), TopicPartition(topic_name, 1, 1)], asynchronous=False)
        c.close()

        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        listed = {g.id: g for g in admin.list_groups(timeout=10)}
        assert set(listed) >= {"active", "idle"}
        a = admin.list_groups("active", timeout=10)[0]
        assert a.state == "Stable"
        assert a.protocol_type == "consumer"
        assert a.protocol == "range"
        assert len(a.members) == 1
        m = a.members[0]
        # The assignment bytes are ConsumerProtocolAssignment: version, [topic, [partitions]].
        assert topic_name.encode() in m.assignment
        assert m.client_host.startswith("/127.0.0.1")

        with KafkaConnection(broker.host, broker.port) as conn:
            # ListGroups v0: both groups, v4 with a state filter: only the Stable one.
            r = Reader(conn.request(16, 0, b""))
            assert r.int16() == 0
            names = r.array(lambda rr: (rr.string(), rr.string()))
            assert ("active", "consumer") in names and ("idle", "") in names
            assert list_groups_v4(conn, ["stable"]) == [("active", "consumer", "Stable")]
            assert list_groups_v4(conn, ["Empty"]) == [("idle", "", "Empty")]
            assert len(list_groups_v4(conn, [])) == 2
            # DeleteGroups v0: the active group is not empty, the idle one goes, unknown is unknown.
            r = Reader(conn.request(42, 0, enc_array(["active", "idle", "nope"], enc_string)))
            r.int32()
            results = dict(r.array(lambda rr: (rr.string(), rr.int16())))
            assert results == {"active": 68, "idle": 0, "nope": 69}
            # OffsetDelete v0 on the active group: subscribed topic is protected.
            body = enc_string("active") + struct.pack(">i", 1) + enc_string(topic_name) + struct.pack(">ii", 1, 0)
            r = Reader(conn.request(47, 0, body))
            assert r.int16() == 0
            r.int32()
            topics = r.array(lambda rr: (rr.string(), rr.array(lambda r3: (r3.int32(), r3.int16()))))
            assert topics == [(topic_name, [(0, 86)])]

        # The deleted group's offsets are gone (OffsetFetch answers -1).
        c = Consumer(consumer_conf(broker.bootstrap, "idle"))
        got = c.committed([TopicPartition(topic_name, 0)], timeout=10)
        c.close()
        assert got[0].offset < 0
        names = {g.id for g in admin.list_groups(timeout=10)}
        assert "idle" not in names
    finally:
        active.close()
