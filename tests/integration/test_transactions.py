"""Transactions (issue 8) with real clients: an exactly-once copier killed three times, random
aborts seen by read_committed and read_uncommitted consumers of librdkafka and kafkajs, zombie
fencing, a crashed producer's transaction aborted on its timeout, and the transaction APIs of
kafkajs and @platformatic/kafka.

Record values name where they come from, so every check compares exact lists of values.
"""

import json
import os
import random
import subprocess
import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from transactions import PYTHON, Copier, produce_input, read_values

pytestmark = pytest.mark.sluice_only

HERE = os.path.dirname(os.path.abspath(__file__))
JS_DIR = os.path.join(HERE, "js")

COPIER_RECORDS = int(os.environ.get("SLUICE_TXN_COPIER_RECORDS", "100000"))
PARTITIONS = 6
# The coordinator looks for timed-out transactions this often (Kafka's default is 10 s).
FAST_ABORT_CHECK = {"transaction.abort.timed.out.transaction.cleanup.interval.ms": "500"}


# ---- helpers ------------------------------------------------------------------------------------

def run_node(options, timeout=180, script="kafkajs_txn.js"):
    proc = subprocess.run(["node", os.path.join(JS_DIR, script), json.dumps(options)],
                          capture_output=True, text=True, timeout=timeout)
    lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
    assert lines, f"{script} printed nothing (exit {proc.returncode}): {proc.stderr[-2000:]}"
    out = json.loads(lines[-1])
    assert proc.returncode == 0 and "error" not in out, out
    return out


# ---- the exactly-once copier --------------------------------------------------------------------

def test_copier_killed_three_times_copies_exactly_once(broker, topic_name, tmp_path):
    src, dst = f"{topic_name}-in", f"{topic_name}-out"
    broker.create_topic(src, PARTITIONS)
    broker.create_topic(dst, PARTITIONS)
    expected = produce_input(broker.bootstrap, src, PARTITIONS, COPIER_RECORDS)

    copier = Copier(str(tmp_path), [broker.bootstrap, src, dst, f"{topic_name}-group", f"{topic_name}-txn",
                                    "--partitions", str(PARTITIONS), "--expect", str(COPIER_RECORDS),
                                    "--batch", "500"])
    try:
        copier.start()
        for fraction in (0.15, 0.4, 0.65):
            copier.wait_copied(int(COPIER_RECORDS * fraction))
            time.sleep(random.uniform(0, 0.05))  # land inside a transaction as often as not
            copier.kill()
            copier.start()
        copier.wait_done()
    finally:
        copier.close()

    restarts = [l for l in copier.lines() if l.get("started")]
    assert restarts and sum(restarts[0]["positions"].values()) > 0, "the last start resumed from committed offsets"
    got = read_values(broker.bootstrap, dst, PARTITIONS, "read_committed", COPIER_RECORDS)
    for p in range(PARTITIONS):
        assert got[p] == expected[p], (f"partition {p}: {len(got[p])} records vs {len(expected[p])} "
                                       f"expected; first difference at "
                                       f"{next((i for i, (a, b) in enumerate(zip(got[p], expected[p])) if a != b), None)}")


# ---- random aborts ------------------------------------------------------------------------------

def test_random_aborts_are_hidden_from_read_committed_only(broker, topic_name):
    broker.create_topic(topic_name, 3)
    p = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": f"{topic_name}-txn",
                  "linger.ms": 5})
    p.init_transactions(30)
    rng = random.Random(8)
    aborted_txns = set(rng.sample(range(100), 10))
    committed = {i: [] for i in range(3)}
    everything = {i: [] for i in range(3)}
    for t in range(100):
        p.begin_transaction()
        for i in range(30):
            v = f"t{t}-{i}"
            p.produce(topic_name, value=v.encode(), partition=i % 3)
            everything[i % 3].append(v)
            if t not in aborted_txns:
                committed[i % 3].append(v)
        if t in aborted_txns:
            # librdkafka drops what it has not sent yet when aborting: send everything first so
            # the aborted records are in the log for read_uncommitted readers.
            assert p.flush(30) == 0
            p.abort_transaction(30)
        else:
            p.commit_transaction(30)

    total = sum(len(v) for v in everything.values())
    kept = sum(len(v) for v in committed.values())
    assert (total, kept) == (3000, 2700)
    rc = read_values(broker.bootstrap, topic_name, 3, "read_committed", kept)
    assert rc == committed
    ru = read_values(broker.bootstrap, topic_name, 3, "read_uncommitted", total)
    assert ru == everything, "read_uncommitted sees aborted records, and no control record"

    for read_uncommitted, want in ((False, committed), (True, everything)):
        out = run_node({"mode": "consume", "bootstrap": broker.bootstrap, "topic": topic_name,
                        "readUncommitted": read_uncommitted, "expect": sum(len(v) for v in want.values()),
                        "groupId": f"{topic_name}-js-{int(read_uncommitted)}"})
        got = {int(k): v for k, v in out["values"].items()}
        assert got == want, f"kafkajs readUncommitted={read_uncommitted}: {out['count']} records"


# ---- zombie fencing -----------------------------------------------------------------------------

def test_second_instance_fences_the_first(broker, topic_name):
    broker.create_topic(topic_name, 2)
    conf = {"bootstrap.servers": broker.bootstrap, "transactional.id": f"{topic_name}-txn", "linger.ms": 0}
    zombie = Producer(conf)
    zombie.init_transactions(30)
    zombie.begin_transaction()
    for i in range(10):
        zombie.produce(topic_name, value=f"zombie-{i}".encode(), partition=0)
    assert zombie.flush(30) == 0

    fencer = Producer(conf)
    fencer.init_transactions(30)  # bumps the epoch and aborts the zombie's open transaction
    fencer.begin_transaction()
    for i in range(10):
        fencer.produce(topic_name, value=f"fencer-{i}".encode(), partition=i % 2)
    fencer.commit_transaction(30)

    # Its next partition needs AddPartitionsToTxn, which the coordinator refuses: librdkafka
    # raises the fatal _FENCED error from flush() or, at the latest, from commit.
    with pytest.raises(KafkaException) as failed:
        zombie.produce(topic_name, value=b"zombie-late", partition=1)
        zombie.flush(10)
        zombie.commit_transaction(30)
    err = failed.value.args[0]
    assert err.fatal() or err.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED,
                                         KafkaError.INVALID_PRODUCER_EPOCH), err

    got = read_values(broker.bootstrap, topic_name, 2, "read_committed", 10)
    assert got == {0: [f"fencer-{i}" for i in range(0, 10, 2)], 1: [f"fencer-{i}" for i in range(1, 10, 2)]}
    # The zombie's first records are in the log (aborted), its late one never got in.
    raw = read_values(broker.bootstrap, topic_name, 2, "read_uncommitted", 20)
    assert raw[0][:10] == [f"zombie-{i}" for i in range(10)]
    assert "zombie-late" not in raw[1]


# ---- a producer killed inside its transaction ---------------------------------------------------

HANGING_PRODUCER = r"""
import sys, time
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": sys.argv[1], "transactional.id": sys.argv[3],
              "transaction.timeout.ms": 4000})
p.init_transactions(30)
p.begin_transaction()
for i in range(20):
    p.produce(sys.argv[2], value=b"open-%d" % i, partition=0)
assert p.flush(30) == 0
print("open", flush=True)
time.sleep(600)
"""


@pytest.mark.broker_config(FAST_ABORT_CHECK)
def test_killed_producers_transaction_is_aborted_after_its_timeout(broker, topic_name):
    broker.create_topic(topic_name, 1)
    started_at = time.monotonic()  # before the transaction starts
    proc = subprocess.Popen([PYTHON, "-c", HANGING_PRODUCER, broker.bootstrap, topic_name, f"{topic_name}-txn"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "open", line + proc.stdout.read()
        proc.kill()
        proc.wait(10)
        killed_at = time.monotonic()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

    plain = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all"})
    for i in range(5):
        plain.produce(topic_name, value=f"after-{i}".encode(), partition=0)
    assert plain.flush(30) == 0

    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"{topic_name}-lso",
                  "isolation.level": "read_committed"})
    try:
        low, lso = c.get_watermark_offsets(TopicPartition(topic_name, 0), timeout=10)
        assert lso == 0, "the open transaction holds the last stable offset at its first record"
        c.assign([TopicPartition(topic_name, 0, 0)])
        seen = []
        while len(seen) < 5:
            assert time.monotonic() - killed_at < 4 + 10, "LSO did not move within timeout + 10 s"
            for m in c.consume(num_messages=100, timeout=0.2):
                assert not m.error(), m.error()
                seen.append(m.value().decode())
        since_start = time.monotonic() - started_at
        assert seen == [f"after-{i}" for i in range(5)]
        assert since_start >= 4, f"records after an open transaction were visible after {since_start:.1f}s"
        low, lso = c.get_watermark_offsets(TopicPartition(topic_name, 0), timeout=10)
        assert lso == 20 + 1 + 5, "20 aborted records, their ABORT marker, 5 plain records"
    finally:
        c.close()


# ---- kafkajs --------------------------------------------------------------------------------------

def test_kafkajs_transactions(broker, topic_name):
    broker.create_topic(topic_name, 3)
    offsets_topic = f"{topic_name}-src"
    broker.create_topic(offsets_topic, 1)
    out = run_node({"mode": "transactions", "bootstrap": broker.bootstrap, "topic": topic_name,
                    "offsetsTopic": offsets_topic, "groupId": f"{topic_name}-group",
                    "transactionalId": f"{topic_name}-txn"})
    assert out["fetchedOffsets"] == [{"partition": 0, "offset": "7"}]
    fenced = {"PRODUCER_FENCED", "INVALID_PRODUCER_EPOCH", "KafkaJSNonRetriableError"}
    assert out["zombieSendError"] in fenced or out["zombieCommitError"] in fenced, out
    assert out["zombieCommitError"] is not None, "the fenced producer must not commit"

    committed = ([f"c1-{i}" for i in range(6)], [f"c2-{i}" for i in range(3)], ["f-0"])
    want = {p: [] for p in range(3)}
    for group in committed:
        for v in group:
            part = 2 if v == "f-0" else int(v.split("-")[1]) % 3
            want[part].append(v)
    got = read_values(broker.bootstrap, topic_name, 3, "read_committed", 10)
    assert got == want
    raw = read_values(broker.bootstrap, topic_name, 3, "read_uncommitted", 17)
    assert sorted(v for vs in raw.values() for v in vs if v.startswith("a-")) == [f"a-{i}" for i in range(6)]


def test_platformatic_transactions(broker, topic_name):
    broker.create_topic(topic_name, 3)
    out = run_node({"bootstrap": broker.bootstrap, "topic": topic_name, "transactionalId": f"{topic_name}-txn"},
                   script="platformatic_txn.mjs")
    assert int(out["producerId"]) >= 0 and len(out["epochs"]) == 3, out

    want = {p: [] for p in range(3)}
    for v in [f"p1-{i}" for i in range(6)] + [f"p2-{i}" for i in range(3)]:
        want[int(v.split("-")[1]) % 3].append(v)
    assert read_values(broker.bootstrap, topic_name, 3, "read_committed", 9) == want
    raw = read_values(broker.bootstrap, topic_name, 3, "read_uncommitted", 15)
    assert sorted(v for vs in raw.values() for v in vs if v.startswith("pa-")) == [f"pa-{i}" for i in range(6)]
