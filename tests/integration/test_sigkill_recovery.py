"""SIGKILL in the middle of an acks=1 produce load: after a restart on the same data directory
and port, every record acknowledged (before or after the kill) is read back intact at its
acknowledged partition and offset."""

import signal
import time

import pytest
from confluent_kafka import Producer

from clients import consume_confluent, producer_config

PARTITIONS = 3
PAD = b"." * 100


@pytest.mark.sluice_only  # needs a broker that persists to disk
def test_sigkill_mid_load_keeps_acknowledged_records(broker, topic_name):
    broker.create_topic(topic_name, PARTITIONS)
    acked = {}  # (partition, offset) -> (key, value)
    failures = []

    def on_delivery(err, msg):
        if err is not None:
            failures.append(err)
        else:
            acked[(msg.partition(), msg.offset())] = (msg.key(), msg.value())

    p = Producer(producer_config(broker.bootstrap, acks=1, **{
        "linger.ms": 5, "batch.num.messages": 1000, "message.timeout.ms": 60000,
        "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 500,
        "retry.backoff.ms": 50, "message.send.max.retries": 1000}))
    seq = 0

    def produce_for(seconds):
        nonlocal seq
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for _ in range(500):
                key = b"key-%d" % (seq % 1000)
                try:
                    p.produce(topic_name, key=key, value=b"%d:" % seq + PAD, on_delivery=on_delivery)
                except BufferError:
                    break
                seq += 1
            p.poll(0.001)

    produce_for(3.0)
    acked_before_kill = len(acked)
    assert acked_before_kill > 1000, f"only {acked_before_kill} acks in 3 s of load"
    rc = broker.kill(signal.SIGKILL)
    assert rc == -signal.SIGKILL
    produce_for(0.5)  # keeps queueing while the broker is down
    broker.restart()
    produce_for(1.0)
    left = p.flush(60)
    assert left == 0, f"{left} records undelivered 60 s after the restart"

    consumed = {(part, r.offset): (r.key, r.value)
                for part, r in consume_confluent(broker.bootstrap, topic_name, PARTITIONS)}
    missing = [k for k in acked if k not in consumed]
    wrong = [k for k in acked if k in consumed and consumed[k] != acked[k]]
    assert not missing and not wrong, (
        f"{len(acked)} records acknowledged ({acked_before_kill} before the SIGKILL): "
        f"{len(missing)} missing after restart (first {sorted(missing)[:5]}), "
        f"{len(wrong)} differ (first {[(k, acked[k], consumed[k]) for k in sorted(wrong)[:3]]})")
    # Every record got exactly one delivery report; failures (if any) are simply not acked.
    assert len(acked) + len(failures) == seq, f"{seq} produced, {len(acked)} acked, {len(failures)} failed"
