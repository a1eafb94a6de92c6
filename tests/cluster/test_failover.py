"""Issue 7's fault scenarios on a real ZooKeeper and three broker processes (reliability.md)."""

import time

import pytest

from conftest import SESSION_TIMEOUT_MS
from kafkawire import KafkaConnection, Record, build_batch
from replication_helpers import (ContinuousProducer, assert_exactly_once_in_order, read_partition,
                                 replica_checksum)

NOT_ENOUGH_REPLICAS = 19
NOT_LEADER_OR_FOLLOWER = 6
UNKNOWN_TOPIC_OR_PARTITION = 3
REQUEST_TIMED_OUT = 7
# Fast failure detection for tests: followers leave the ISR after 3 s behind.
FAST = {"replica.lag.time.max.ms": "3000", "auto.leader.rebalance.enable": "false"}


def raw_produce(broker, topic, partition, acks, value=b"x", timeout_ms=3000):
    batch = build_batch([Record(key=None, value=value, timestamp=int(time.time() * 1000))])
    with KafkaConnection(broker.host, broker.port, timeout=timeout_ms / 1000 + 5) as c:
        return c.produce(topic, partition, batch, acks=acks, timeout_ms=timeout_ms)


def wait_in_sync(cluster, topic, p=0, size=3, timeout=60):
    return cluster.wait_partition(topic, p, lambda s: s["leader"] >= 0 and len(s["isr"]) == size,
                                  f"ISR back to {size}", timeout)


def assert_replicas_identical(cluster, topic, p=0):
    state = wait_in_sync(cluster, topic, p, len(cluster.brokers))
    leader = cluster.brokers[state["leader"]]
    with KafkaConnection(leader.host, leader.port) as c:
        err, hw = c.list_offsets(topic, p, -1)[:2]
    assert err == 0
    # Followers learn the final high watermark on their next fetch.
    time.sleep(1.5)
    sums = {b.broker_id: replica_checksum(b, topic, p, hw) for b in cluster.brokers.values()
            if b.broker_id in state["replicas"]}
    assert len(set(sums.values())) == 1, f"replicas differ below high watermark {hw}: {sums}"
    assert next(iter(sums.values()))[1] > 0


@pytest.mark.timeout(240)
def test_leader_sigkill_five_times_loses_nothing_acknowledged(cluster_factory, topic_name):
    cluster = cluster_factory(3, FAST)
    cluster.create_topic(topic_name, 1, 3, {"min.insync.replicas": "2"})
    with ContinuousProducer(cluster.bootstrap, topic_name) as producer:
        producer.wait_acked_more(200)
        for round_ in range(5):
            leader_id = cluster.partition(topic_name)["leader"]
            leader = cluster.brokers[leader_id]
            before = producer.acked_count()
            leader.kill()
            cluster.wait_partition(topic_name, 0, lambda s: s["leader"] not in (-1, leader_id),
                                   f"a new leader after killing {leader_id} (round {round_})")
            producer.wait_acked_more(before + 100)
            leader.start()
            wait_in_sync(cluster, topic_name)
            producer.wait_acked_more(producer.acked_count() + 100)
    records, _ = read_partition(cluster.bootstrap, topic_name)
    assert producer.acked_count() > 1000
    assert_exactly_once_in_order(records, producer)
    assert_replicas_identical(cluster, topic_name)


@pytest.mark.timeout(120)
def test_acks_all_request_answers_each_partition(cluster_factory, topic_name):
    """One acks=all Produce naming several partitions led by one broker: every partition is
    appended before the replication waits, and each gets its own answer. Here a partition whose
    follower is frozen times out while the others in the same request succeed."""
    cluster = cluster_factory(3, FAST)
    slow, fast = f"{topic_name}-slow", f"{topic_name}-fast"
    cluster.create_topic(slow, 1, 3)
    cluster.create_topic(fast, 6, 1)
    state = cluster.partition(slow)
    leader = cluster.brokers[state["leader"]]
    mine = [p for p in range(6) if cluster.partition(fast, p)["leader"] == leader.broker_id]
    assert mine, f"no partition of {fast} is led by broker {leader.broker_id}"
    follower = cluster.brokers[next(r for r in state["replicas"] if r != leader.broker_id)]

    def batch(value):
        return build_batch([Record(key=None, value=value, timestamp=int(time.time() * 1000))])

    writes = [(slow, 0, batch(b"slow-1")), (fast, mine[0], batch(b"fast-1")), (fast, 99, batch(b"none"))]
    follower.freeze()  # still in the ISR: it leaves only after replica.lag.time.max.ms (3 s)
    try:
        with KafkaConnection(leader.host, leader.port, timeout=10) as c:
            started = time.monotonic()
            answers = c.produce_many(writes, acks=-1, timeout_ms=1000)
            waited = time.monotonic() - started
    finally:
        follower.thaw()
    assert answers == [(slow, 0, REQUEST_TIMED_OUT, -1), (fast, mine[0], 0, 0),
                       (fast, 99, UNKNOWN_TOPIC_OR_PARTITION, -1)]
    assert waited >= 0.9, f"answered after {waited:.2f} s, before the 1 s replication timeout"
    wait_in_sync(cluster, slow)
    with KafkaConnection(leader.host, leader.port, timeout=10) as c:
        answers = c.produce_many(writes[:2], acks=-1, timeout_ms=10000)
    # The timed-out record was appended (as in Kafka: the produce failed, the log has it).
    assert answers == [(slow, 0, 0, 1), (fast, mine[0], 0, 1)]


@pytest.mark.timeout(180)
def test_frozen_leader_deposed_acknowledges_nothing(cluster_factory, topic_name):
    cluster = cluster_factory(3, FAST)
    cluster.create_topic(topic_name, 1, 3, {"min.insync.replicas": "2"})
    # tolerate_fatal: see ContinuousProducer._replace_after_fatal (librdkafka 2.0.2 believes the
    # thawed leader's stale metadata); acknowledged records are still checked below.
    with ContinuousProducer(cluster.bootstrap, topic_name, tolerate_fatal=True) as producer:
        producer.wait_acked_more(200)
        leader_id = cluster.partition(topic_name)["leader"]
        old = cluster.brokers[leader_id]
        old.freeze()
        try:
            cluster.wait_partition(topic_name, 0, lambda s: s["leader"] not in (-1, leader_id),
                                           "a new leader while the old one is frozen",
                                           timeout=SESSION_TIMEOUT_MS / 1000 + 20)
            # Stay frozen past the session timeout so ZooKeeper surely expired its session.
            time.sleep(SESSION_TIMEOUT_MS / 1000 + 1)
            producer.wait_acked_more(producer.acked_count() + 100)
        finally:
            old.thaw()
        # The deposed leader must not acknowledge an acks=all write, whatever it believes now.
        err, _ = raw_produce(old, topic_name, 0, acks=-1)
        assert err != 0, "deposed leader acknowledged an acks=all write"
        wait_in_sync(cluster, topic_name)
        assert cluster.partition(topic_name)["leader_epoch"] > 0
        producer.wait_acked_more(producer.acked_count() + 100)
    records, _ = read_partition(cluster.bootstrap, topic_name)
    assert_exactly_once_in_order(records, producer)
    assert_replicas_identical(cluster, topic_name)


@pytest.mark.timeout(180)
def test_two_replicas_down_acks_all_refused_acks_one_works(cluster_factory, topic_name):
    cluster = cluster_factory(3, FAST)
    cluster.create_topic(topic_name, 1, 3, {"min.insync.replicas": "2"})
    state = cluster.partition(topic_name)
    leader = cluster.brokers[state["leader"]]
    followers = [cluster.brokers[r] for r in state["replicas"] if r != state["leader"]]
    for f in followers:
        f.kill()
    cluster.wait_partition(topic_name, 0, lambda s: s["isr"] == [leader.broker_id],
                           "ISR shrunk to the leader")
    err, _ = raw_produce(leader, topic_name, 0, acks=-1)
    assert err == NOT_ENOUGH_REPLICAS
    err, offset = raw_produce(leader, topic_name, 0, acks=1, value=b"acks1")
    assert err == 0 and offset >= 0
    for f in followers:
        f.start()
    wait_in_sync(cluster, topic_name)
    err, _ = raw_produce(leader, topic_name, 0, acks=-1, value=b"after")
    assert err == 0
    records, _ = read_partition(cluster.bootstrap, topic_name)
    assert [v for _, v in records] == ["acks1", "after"]


@pytest.mark.timeout(180)
def test_fast_double_failover_does_not_diverge(cluster_factory, topic_name):
    """KIP-101: A leads, B follows; B is paused while A takes acks=1 writes B never sees; A dies;
    B (still in the ISR) leads and takes other writes; B dies; A returns (not in the ISR, so
    no leader), then B returns and leads: A must drop its divergent tail."""
    cluster = cluster_factory(3, {"replica.lag.time.max.ms": "30000", "auto.leader.rebalance.enable": "false"})
    a_id, b_id = 1, 2
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": cluster.bootstrap})  # alive until the result arrives
    admin.create_topics(
        [NewTopic(topic_name, num_partitions=1, replica_assignment=[[a_id, b_id]],
                  config={"min.insync.replicas": "1"})]
    )[topic_name].result(30)
    wait_in_sync(cluster, topic_name, size=2)
    a, b = cluster.brokers[a_id], cluster.brokers[b_id]
    acked_all = []
    for i in range(20):
        err, _ = raw_produce(a, topic_name, 0, acks=-1, value=f"common-{i}".encode())
        assert err == 0
        acked_all.append(f"common-{i}")
    time.sleep(1)  # B fetches the final high watermark
    b.freeze()
    for i in range(10):
        err, _ = raw_produce(a, topic_name, 0, acks=1, value=f"a-only-{i}".encode())
        assert err == 0
    a.kill()
    b.thaw()
    cluster.wait_partition(topic_name, 0, lambda s: s["leader"] == b_id, "B leads after A died")
    for i in range(5):
        err, _ = raw_produce(b, topic_name, 0, acks=-1, value=f"b-{i}".encode())
        assert err == 0
        acked_all.append(f"b-{i}")
    b.kill()
    a.start()
    # B's death is noticed when its ZooKeeper session expires; A (out of the ISR) must not lead.
    cluster.wait_partition(topic_name, 0, lambda s: s["leader"] == -1, "no leader once B's session expired",
                           timeout=SESSION_TIMEOUT_MS / 1000 + 10)
    time.sleep(2)
    assert cluster.partition(topic_name)["leader"] == -1, \
        "A must not lead: it left the ISR and unclean leader election is off"
    b.start()
    wait_in_sync(cluster, topic_name, size=2)
    records, hw = read_partition(cluster.bootstrap, topic_name)
    # Everything acknowledged by acks=all stays, in order. A's acks=1 tail is lost except what B
    # had already fetched before it froze (a fetch answer can sit in B's socket buffer): at
    # most a prefix of it, right before B's own writes.
    values = [v for _, v in records]
    common, b_writes = acked_all[:20], acked_all[20:]
    kept_tail = values[20:len(values) - len(b_writes)]
    assert values[:20] == common and values[len(values) - len(b_writes):] == b_writes, values
    assert kept_tail == [f"a-only-{i}" for i in range(len(kept_tail))], values
    assert len(kept_tail) < 10, "A's whole acks=1 tail survived: B was not frozen before it"
    time.sleep(1.5)  # A learns the final high watermark
    sums = {x.broker_id: replica_checksum(x, topic_name, 0, hw) for x in (a, b)}
    assert len(set(sums.values())) == 1, f"replicas diverged below high watermark {hw}: {sums}"


@pytest.mark.timeout(180)
def test_controller_killed_new_one_elected_and_failover_still_works(cluster_factory, topic_name):
    cluster = cluster_factory(3, FAST)
    cluster.create_topic(topic_name, 3, 3, {"min.insync.replicas": "2"})
    old_controller = cluster.controller()
    assert old_controller in cluster.brokers
    killed_at = time.monotonic()
    cluster.brokers[old_controller].kill()
    new_controller = cluster.wait_for(
        "a new controller", lambda: (lambda c: c if c not in (-1, old_controller) else None)(cluster.controller()),
        timeout=SESSION_TIMEOUT_MS / 1000 + 10)
    assert time.monotonic() - killed_at < SESSION_TIMEOUT_MS / 1000 + 10
    # Partitions the old controller led have moved.
    for p in range(3):
        cluster.wait_partition(topic_name, p, lambda s: s["leader"] not in (-1, old_controller),
                               "leader away from the dead controller")
    # Next failover, handled by the new controller: kill the other live broker. Every partition
    # it led moves to the new controller, and it leaves every ISR.
    victim = next(b.broker_id for b in cluster.live() if b.broker_id != new_controller)
    led_by_victim = [p for p in range(3) if cluster.partition(topic_name, p)["leader"] == victim]
    assert led_by_victim, "the victim leads at least its preferred partition"
    cluster.brokers[victim].kill()
    for p in range(3):
        cluster.wait_partition(topic_name, p, lambda s: s["leader"] == new_controller and victim not in s["isr"],
                               f"led by the new controller {new_controller} without {victim} in the ISR")
    for p in led_by_victim:
        err, _ = raw_produce(cluster.brokers[new_controller], topic_name, p, acks=1)
        assert err == 0
    assert cluster.controller() == new_controller
    cluster.brokers[old_controller].start()
    cluster.brokers[victim].start()
    for p in range(3):
        wait_in_sync(cluster, topic_name, p)


@pytest.mark.timeout(240)
def test_group_survives_coordinator_broker_kill(cluster_factory, topic_name):
    from confluent_kafka import Consumer, Producer
    cluster = cluster_factory(3, FAST)
    cluster.create_topic(topic_name, 3, 3, {"min.insync.replicas": "2"})
    p = Producer({"bootstrap.servers": cluster.bootstrap, "enable.idempotence": True})
    total = 3000
    for i in range(total):
        p.produce(topic_name, str(i).encode(), partition=i % 3)
    assert p.flush(60) == 0
    group = topic_name + "-g"
    c = Consumer({"bootstrap.servers": cluster.bootstrap, "group.id": group, "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "session.timeout.ms": 10000})
    c.subscribe([topic_name])
    seen = []
    killed = None
    committed_before_kill = None
    deadline = time.monotonic() + 150
    try:
        while len(set(seen)) < total:
            assert time.monotonic() < deadline, f"consumed {len(set(seen))} of {total}"
            m = c.poll(0.5)
            if m is None or m.error():
                continue
            seen.append(m.value().decode())
            c.commit(message=m, asynchronous=False)
            if killed is None and len(seen) >= total // 3:
                with KafkaConnection(cluster.brokers[1].host, cluster.brokers[1].port) as conn:
                    coordinator = conn.find_coordinator(group)
                committed_before_kill = {tp.partition: tp.offset for tp in c.committed(c.assignment(), timeout=10)}
                killed = cluster.brokers[coordinator]
                killed.kill()
        final = {tp.partition: tp.offset for tp in c.committed(c.assignment(), timeout=30)}
    finally:
        c.close()
    assert killed is not None
    for part, off in committed_before_kill.items():
        assert final[part] >= off, f"committed offset of partition {part} went back: {off} -> {final[part]}"
    assert sum(final.values()) == total
    assert set(seen) == {str(i) for i in range(total)}
