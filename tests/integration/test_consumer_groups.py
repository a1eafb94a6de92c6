"""Consumer groups with real librdkafka consumers (confluent-kafka-python): balanced assignment,
rebalances when members join, die or stop polling, committed offsets across restarts and
SIGKILL of the broker, manual-commit redelivery, static membership, cooperative-sticky."""

import time

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewPartitions

from groups import (FAST_GROUPS, MemberProcess, TrackedConsumer, balanced, consumer_conf, disjoint, poll_until,
                    produce_values)

pytestmark = [pytest.mark.sluice_only, pytest.mark.broker_config(FAST_GROUPS)]


def make_group(broker, topic, n, group="g1", **overrides):
    return [TrackedConsumer(broker.bootstrap, group, [topic], f"c{i}", **overrides) for i in range(n)]


def close_all(consumers):
    for c in consumers:
        c.close()


def test_three_members_get_two_partitions_each_and_fourth_member_moves_partitions(broker, topic_name):
    broker.create_topic(topic_name, 6)
    cs = make_group(broker, topic_name, 3)
    try:
        poll_until(cs, lambda: balanced(cs, 6, [2, 2, 2]), 30, "3 x 2 partitions", lambda: disjoint(cs))
        before = {c.name: c.assigned() for c in cs}
        cs.append(TrackedConsumer(broker.bootstrap, "g1", [topic_name], "c3"))
        poll_until(cs, lambda: balanced(cs, 6, [1, 1, 2, 2]), 30, "4 members sharing 6 partitions",
                   lambda: disjoint(cs))
        assert cs[3].assigned(), "the new member got nothing"
        moved = [c.name for c in cs[:3] if c.assigned() != before[c.name]]
        assert moved, "no partition moved to the fourth member"
        # Every assignment any member saw was a subset of the partitions (no stray ids).
        for c in cs:
            for a in c.assignments:
                assert a <= set(range(6))
    finally:
        close_all(cs)


def test_sigkilled_member_loses_partitions_after_session_timeout(broker, topic_name):
    broker.create_topic(topic_name, 6)
    victim = MemberProcess(broker.bootstrap, "g2", topic_name)
    cs = make_group(broker, topic_name, 2, group="g2")
    try:
        def three_way():
            v = victim.poll()
            others = [c.assigned() for c in cs]
            return (v is not None and len(v) == 2 and [len(o) for o in others] == [2, 2]
                    and len(v | others[0] | others[1]) == 6)
        poll_until(cs, three_way, 40, "3 members with 2 partitions each")
        victim.kill()
        killed_at = time.monotonic()
        poll_until(cs, lambda: balanced(cs, 6, [3, 3]), 30, "the killed member's partitions reassigned",
                   lambda: disjoint(cs))
        # session.timeout.ms is 2000: not reassigned much earlier than that.
        assert time.monotonic() - killed_at >= 1.5
    finally:
        victim.kill()
        close_all(cs)


def test_member_that_stops_polling_is_removed_after_max_poll_interval(broker, topic_name):
    broker.create_topic(topic_name, 4)
    cs = make_group(broker, topic_name, 2, group="g3", **{"max.poll.interval.ms": 3000})
    try:
        poll_until(cs, lambda: balanced(cs, 4, [2, 2]), 30, "2 x 2 partitions")
        # cs[1] stops polling (its heartbeats go on in librdkafka's thread) for > 3 s.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(cs[0].assigned()) != 4:
            cs[0].poll_once(0.05)
        assert cs[0].assigned() == frozenset(range(4)), "partitions did not move off the stalled member"
    finally:
        close_all(cs)


def test_adding_partitions_triggers_rebalance(broker, topic_name):
    broker.create_topic(topic_name, 2)
    cs = make_group(broker, topic_name, 2, group="g4")
    try:
        poll_until(cs, lambda: balanced(cs, 2, [1, 1]), 30, "1 partition each")
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_partitions([NewPartitions(topic_name, 6)])[topic_name].result(30)
        poll_until(cs, lambda: balanced(cs, 6, [3, 3]), 30, "the new partitions assigned")
    finally:
        close_all(cs)


def consume_n(consumer, n, timeout=30):
    got = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        m = consumer.poll(0.1)
        if m is not None and not m.error():
            got.append(m)
    assert len(got) == n, f"consumed {len(got)} of {n}"
    return got


def test_manual_commit_redelivers_uncommitted_records(broker, topic_name):
    broker.create_topic(topic_name, 1)
    produce_values(broker.bootstrap, topic_name, [b"v%d" % i for i in range(20)])
    c = Consumer(consumer_conf(broker.bootstrap, "g5"))
    c.subscribe([topic_name])
    msgs = consume_n(c, 15)
    assert [m.offset() for m in msgs] == list(range(15))
    c.commit(message=msgs[9], asynchronous=False)  # commits offset 10
    c.close()
    c2 = Consumer(consumer_conf(broker.bootstrap, "g5"))
    c2.subscribe([topic_name])
    again = consume_n(c2, 10)
    assert [m.offset() for m in again] == list(range(10, 20))
    assert [m.value() for m in again] == [b"v%d" % i for i in range(10, 20)]
    committed = c2.committed([TopicPartition(topic_name, 0)], timeout=10)
    assert committed[0].offset == 10
    c2.close()


def test_auto_commit_commits_on_its_interval(broker, topic_name):
    broker.create_topic(topic_name, 1)
    produce_values(broker.bootstrap, topic_name, [b"x"] * 10)
    c = Consumer(consumer_conf(broker.bootstrap, "g6", **{"enable.auto.commit": True,
                                                           "auto.commit.interval.ms": 300}))
    c.subscribe([topic_name])
    consume_n(c, 10)
    deadline = time.monotonic() + 10
    committed = None
    while time.monotonic() < deadline:
        c.poll(0.1)
        committed = c.committed([TopicPartition(topic_name, 0)], timeout=5)[0].offset
        if committed == 10:
            break
    c.close()
    assert committed == 10


def test_committed_offsets_survive_broker_sigkill(broker, topic_name):
    broker.create_topic(topic_name, 3)
    for p in range(3):
        produce_values(broker.bootstrap, topic_name, [b"p%d-%d" % (p, i) for i in range(10)], partition=p)
    c = Consumer(consumer_conf(broker.bootstrap, "g7"))
    c.subscribe([topic_name])
    consume_n(c, 30)
    offsets = [TopicPartition(topic_name, 0, 4), TopicPartition(topic_name, 1, 7), TopicPartition(topic_name, 2, 10)]
    c.commit(offsets=offsets, asynchronous=False)
    c.close()
    broker.kill()  # SIGKILL: no clean shutdown
    broker.restart()
    c2 = Consumer(consumer_conf(broker.bootstrap, "g7"))
    deadline = time.monotonic() + 30
    got = None
    while time.monotonic() < deadline:
        try:
            got = c2.committed([TopicPartition(topic_name, p) for p in range(3)], timeout=5)
            break
        except Exception:  # coordinator still loading after the restart
            time.sleep(0.2)
    assert got is not None
    assert [tp.offset for tp in got] == [4, 7, 10]
    # And consumption resumes there.
    c2.subscribe([topic_name])
    rest = consume_n(c2, 6 + 3)
    assert sorted((m.partition(), m.offset()) for m in rest) == \
        [(0, o) for o in range(4, 10)] + [(1, o) for o in range(7, 10)]
    c2.close()


def test_static_member_restart_keeps_partitions_without_rebalance(broker, topic_name):
    broker.create_topic(topic_name, 4)
    conf = {"session.timeout.ms": 6000}
    a = TrackedConsumer(broker.bootstrap, "g8", [topic_name], "a", **{"group.instance.id": "a", **conf})
    b = TrackedConsumer(broker.bootstrap, "g8", [topic_name], "b", **{"group.instance.id": "b", **conf})
    cs = [a, b]
    try:
        poll_until(cs, lambda: balanced(cs, 4, [2, 2]), 30, "2 x 2 partitions")
        a_parts = a.assigned()
        b_assignments = len(b.assignments)
        # Restart a with the same group.instance.id; close() of a static member sends no
        # LeaveGroup, so the group keeps it for session.timeout.ms.
        a.close()
        a2 = TrackedConsumer(broker.bootstrap, "g8", [topic_name], "a2", **{"group.instance.id": "a", **conf})
        cs = [a2, b]
        poll_until(cs, lambda: a2.assigned() == a_parts, 30, "the restarted static member's partitions back")
        # b kept polling through it all and was never reassigned.
        end = time.monotonic() + 2
        while time.monotonic() < end:
            for c in cs:
                c.poll_once(0.02)
        assert len(b.assignments) == b_assignments, f"b was rebalanced: {b.assignments}"
        assert balanced(cs, 4, [2, 2])
    finally:
        close_all(cs)


def test_cooperative_sticky_keeps_unaffected_partitions(broker, topic_name):
    broker.create_topic(topic_name, 6)
    opts = {"partition.assignment.strategy": "cooperative-sticky"}
    cs = make_group(broker, topic_name, 2, group="g9", **opts)
    try:
        poll_until(cs, lambda: balanced(cs, 6, [3, 3]), 30, "2 x 3 partitions")
        before = [c.assigned() for c in cs]
        cs.append(TrackedConsumer(broker.bootstrap, "g9", [topic_name], "c2", **opts))
        poll_until(cs, lambda: balanced(cs, 6, [2, 2, 2]), 40, "3 x 2 partitions")
        # Each original member kept 2 of its 3 partitions: only one moved from each.
        for c, old in zip(cs[:2], before):
            assert c.assigned() <= old, f"{c.name} got partitions it did not own: {old} -> {c.assigned()}"
            # Incremental, not eager: after the first assignment it never dropped to nothing.
            first = next(i for i, a in enumerate(c.assignments) if a)
            assert all(len(a) > 0 for a in c.assignments[first:]), c.assignments
    finally:
        close_all(cs)
