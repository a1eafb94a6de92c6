"""Helpers for the consumer group tests: librdkafka consumers driven from one thread."""

import os
import signal
import subprocess
import sys
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

HERE = os.path.dirname(os.path.abspath(__file__))

# Broker settings that keep group tests fast (Kafka defaults: 3000 ms delay, 6000 ms minimum
# session timeout).
FAST_GROUPS = {"group.initial.rebalance.delay.ms": "300", "group.min.session.timeout.ms": "500"}


def consumer_conf(bootstrap, group, **overrides):
    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 2000,
        "heartbeat.interval.ms": 200,
        "max.poll.interval.ms": 20000,
        "topic.metadata.refresh.interval.ms": 1000,
        "fetch.wait.max.ms": 100,
    }
    conf.update(overrides)
    return conf


class TrackedConsumer:
    """A confluent_kafka Consumer that records what it consumed and its assignments."""

    def __init__(self, bootstrap, group, topics, name, **overrides):
        self.name = name
        self.consumer = Consumer(consumer_conf(bootstrap, group, **overrides))
        self.records = []        # (partition, offset, value)
        self.errors = []
        self.assignments = []    # the assignment after every assign/revoke callback
        self.closed = False
        self.cooperative = overrides.get("partition.assignment.strategy") == "cooperative-sticky"
        self.consumer.subscribe(topics, on_assign=self._on_assign, on_revoke=self._on_revoke)

    def _on_assign(self, consumer, partitions):
        if self.consumer_is_cooperative():
            consumer.incremental_assign(partitions)
        else:
            consumer.assign(partitions)
        self.assignments.append(self.assigned())

    def _on_revoke(self, consumer, partitions):
        if self.consumer_is_cooperative():
            consumer.incremental_unassign(partitions)
        else:
            consumer.unassign()
        try:
            self.assignments.append(self.assigned())
        except Exception:  # revoked while closing: the handle is going away
            pass

    def consumer_is_cooperative(self):
        return self.cooperative

    def assigned(self):
        if self.closed:
            return frozenset()
        return frozenset(tp.partition for tp in self.consumer.assignment())

    def poll_once(self, timeout=0.05):
        msg = self.consumer.poll(timeout)
        if msg is None:
            return None
        if msg.error():
            if msg.error().code() != KafkaError._PARTITION_EOF:
                self.errors.append(msg.error())
            return None
        self.records.append((msg.partition(), msg.offset(), msg.value()))
        return msg

    def close(self):
        if not self.closed:
            self.consumer.close()
            self.closed = True


def disjoint(consumers):
    """No partition is held by two live members (eager rebalancing revokes everything before a
    member rejoins, so this holds at every instant, not only between rebalances)."""
    sets = [c.assigned() for c in consumers if not c.closed]
    return sum(len(s) for s in sets) == len(set().union(*sets)) if sets else True


def poll_until(consumers, predicate, timeout, what, invariant=None):
    """Polls every consumer in turn until predicate() holds; fails after `timeout` seconds.
    `invariant`, if given, must hold after every round of polls."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for c in consumers:
            if not c.closed:
                c.poll_once(0.02)
        if invariant is not None:
            assert invariant(), f"invariant broken: {[sorted(c.assigned()) for c in consumers if not c.closed]}"
        if predicate():
            return
    state = {c.name: sorted(c.assigned()) for c in consumers if not c.closed}
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; assignments: {state}")


def balanced(consumers, partitions, sizes):
    """True when the live consumers' assignments are disjoint, cover `partitions`, and have the
    given sorted sizes."""
    live = [c for c in consumers if not c.closed]
    sets = [c.assigned() for c in live]
    union = set().union(*sets) if sets else set()
    return (sum(len(s) for s in sets) == len(union) and union == set(range(partitions))
            and sorted(len(s) for s in sets) == sorted(sizes))


def produce_values(bootstrap, topic, values, partition=None):
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
    failures = []
    for v in values:
        kwargs = {} if partition is None else {"partition": partition}
        p.produce(topic, value=v, on_delivery=lambda err, msg: err and failures.append(err), **kwargs)
    assert p.flush(30) == 0
    assert not failures, failures


MEMBER_SCRIPT = r"""
import sys, time
from confluent_kafka import Consumer
conf = eval(sys.argv[1])
c = Consumer(conf)
c.subscribe([sys.argv[2]])
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    c.poll(0.1)
    if c.assignment():
        print("assigned " + ",".join(str(tp.partition) for tp in c.assignment()), flush=True)
"""


class MemberProcess:
    """A consumer in a child process, so the test can SIGKILL it (no LeaveGroup sent)."""

    def __init__(self, bootstrap, group, topic, **overrides):
        conf = consumer_conf(bootstrap, group, **overrides)
        self.proc = subprocess.Popen([sys.executable, "-c", MEMBER_SCRIPT, repr(conf), topic],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self._buf = b""
        self.last_assignment = None

    def poll(self):
        try:
            chunk = self.proc.stdout.read()
        except (BlockingIOError, TypeError):
            chunk = None
        if chunk:
            self._buf += chunk
            lines = self._buf.split(b"\n")
            self._buf = lines[-1]
            for line in lines[:-1]:
                if line.startswith(b"assigned "):
                    self.last_assignment = frozenset(int(x) for x in line[9:].split(b","))
        return self.last_assignment

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
