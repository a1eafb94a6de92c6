"""`sluice transactions list|describe|describe-producers` against a live transaction, and the
errors an operator can meet (unknown id, unknown topic or partition, a broker without the APIs)."""

import time

import pytest
from confluent_kafka import Producer

from cli import fails, ok, ok_json

pytestmark = pytest.mark.sluice_only


def open_transaction(broker, topic, transactional_id, records=3):
    p = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": transactional_id,
                  "transaction.timeout.ms": 60000})
    p.init_transactions(30)
    p.begin_transaction()
    for i in range(records):
        p.produce(topic, value=f"v{i}".encode(), partition=1)
    assert p.flush(30) == 0
    return p


def test_an_open_transaction_is_listed_described_and_its_producer_shown(broker, topic_name):
    broker.create_topic(topic_name, 2)
    before = int(time.time() * 1000)
    p = open_transaction(broker, topic_name, f"{topic_name}-txn")

    listed = ok_json("transactions", "list", "--json", "-b", broker.bootstrap)
    mine = [t for t in listed if t["transactional_id"] == f"{topic_name}-txn"]
    assert len(mine) == 1 and mine[0]["state"] == "Ongoing" and mine[0]["coordinator"] == 0
    pid = mine[0]["producer_id"]
    assert ok_json("transactions", "list", "--json", "--state", "CompleteCommit", "-b", broker.bootstrap) == \
        [t for t in listed if t["state"] == "CompleteCommit"]
    assert [t["transactional_id"] for t in ok_json("transactions", "list", "--json", "--producer-id", pid,
                                                   "-b", broker.bootstrap)] == [f"{topic_name}-txn"]
    # --duration-filter (ListTransactions v1): only transactions running longer than that.
    time.sleep(0.05)
    running = ok_json("transactions", "list", "--json", "--duration-filter", "0", "-b", broker.bootstrap)
    assert [t["state"] for t in running if t["transactional_id"] == f"{topic_name}-txn"] == ["Ongoing"]
    assert ok_json("transactions", "list", "--json", "--duration-filter", "3600000", "-b", broker.bootstrap) == []

    d = ok_json("transactions", "describe", "--transactional-id", f"{topic_name}-txn", "--json",
                "-b", broker.bootstrap)
    assert d["state"] == "Ongoing" and d["producer_id"] == pid and d["producer_epoch"] == 0
    assert d["timeout_ms"] == 60000 and d["partitions"] == [f"{topic_name}-1"]
    assert d["start_time_ms"] >= before - 1000 and d["duration_ms"] >= 0

    producers = ok_json("transactions", "describe-producers", "--topic", topic_name, "--partition", "1",
                        "--json", "-b", broker.bootstrap)
    assert [(x["producer_id"], x["producer_epoch"], x["last_sequence"], x["current_txn_start_offset"])
            for x in producers] == [(pid, 0, 2, 0)]
    assert ok_json("transactions", "describe-producers", "--topic", topic_name, "--partition", "0",
                   "--json", "-b", broker.bootstrap) == []
    text = ok("transactions", "describe-producers", "--topic", topic_name, "--partition", "1",
              "-b", broker.bootstrap)
    assert text.splitlines()[0].split() == ["PRODUCER-ID", "PRODUCER-EPOCH", "COORDINATOR-EPOCH", "LAST-SEQUENCE",
                                            "LAST-TIMESTAMP", "CURRENT-TXN-START-OFFSET"]

    p.commit_transaction(30)
    d = ok_json("transactions", "describe", "--transactional-id", f"{topic_name}-txn", "--json",
                "-b", broker.bootstrap)
    assert d["state"] == "CompleteCommit" and d["partitions"] == []
    producers = ok_json("transactions", "describe-producers", "--topic", topic_name, "--partition", "1",
                        "--json", "-b", broker.bootstrap)
    assert [x["current_txn_start_offset"] for x in producers] == [-1]


def test_operator_errors_name_the_problem(broker, topic_name):
    broker.create_topic(topic_name, 1)
    err = fails("transactions", "describe", "--transactional-id", "nobody", "-b", broker.bootstrap)
    assert "TRANSACTIONAL_ID_NOT_FOUND" in err
    err = fails("transactions", "describe-producers", "--topic", "no-such-topic", "--partition", "0",
                "-b", broker.bootstrap)
    assert "topic 'no-such-topic' does not exist" in err
    err = fails("transactions", "describe-producers", "--topic", topic_name, "--partition", "3",
                "-b", broker.bootstrap)
    assert "has no partition 3" in err
    err = fails("transactions", "list", "--state", "Sleeping", "-b", broker.bootstrap, code=2)
    assert "unknown transaction state: Sleeping" in err
    err = fails("transactions", "list", "--duration-filter", "-5", "-b", broker.bootstrap, code=2)
    assert "--duration-filter" in err
    fails("transactions", "describe", "-b", broker.bootstrap, code=2)  # --transactional-id is required


def test_a_broker_without_the_transaction_apis_is_named(mock_cluster):
    err = fails("transactions", "list", "-b", mock_cluster.bootstrap)
    assert "ListTransactions" in err
