"""Issue 8 in the 3-broker cluster: the exactly-once copier keeps its guarantee while the broker
hosting its transaction coordinator is killed with SIGKILL and started again."""

import os
import time

import pytest

from kafkawire import KafkaConnection
from transactions import Copier, produce_input, read_values

RECORDS = int(os.environ.get("SLUICE_TXN_COPIER_RECORDS", "100000"))
PARTITIONS = 6
FAST = {"replica.lag.time.max.ms": "3000", "auto.leader.rebalance.enable": "false",
        "transaction.abort.timed.out.transaction.cleanup.interval.ms": "1000"}
FIND_COORDINATOR_TRANSACTION = 1


def transaction_coordinator(cluster, transactional_id):
    def ask():
        b = cluster.live()[0]
        with KafkaConnection(b.host, b.port, timeout=5) as c:
            return c.find_coordinator(transactional_id, FIND_COORDINATOR_TRANSACTION)
    return cluster.wait_for(f"the coordinator of {transactional_id}", ask)


@pytest.mark.timeout(420)
def test_copier_survives_transaction_coordinator_sigkill(cluster_factory, topic_name, tmp_path):
    cluster = cluster_factory(3, FAST)
    src, dst, txn_id = f"{topic_name}-in", f"{topic_name}-out", f"{topic_name}-txn"
    for t in (src, dst):
        cluster.create_topic(t, PARTITIONS, 3, {"min.insync.replicas": "2"})
    expected = produce_input(cluster.bootstrap, src, PARTITIONS, RECORDS)

    copier = Copier(str(tmp_path), [cluster.bootstrap, src, dst, f"{topic_name}-group", txn_id,
                                    "--partitions", str(PARTITIONS), "--expect", str(RECORDS),
                                    "--batch", "500"])
    try:
        copier.start()
        copier.wait_copied(RECORDS // 4, timeout=180)
        victim = cluster.brokers[transaction_coordinator(cluster, txn_id)]
        victim.kill()
        copied_at_kill = copier.copied()
        # The coordinator moves to another replica of its __transaction_state partition; a copier
        # that met a fatal error (none is expected) is started again, as its supervisor would.
        deadline = time.monotonic() + 120
        while copier.copied() < copied_at_kill + RECORDS // 4:
            assert time.monotonic() < deadline, f"copier stuck after the coordinator's kill: {copier.tail()}"
            if copier.proc.poll() is not None:
                copier.start()
            time.sleep(0.1)
        new_coordinator = transaction_coordinator(cluster, txn_id)
        assert new_coordinator != victim.broker_id
        victim.start()
        copier.wait_done(timeout=300)
    finally:
        copier.close()

    got = read_values(cluster.bootstrap, dst, PARTITIONS, "read_committed", RECORDS)
    for p in range(PARTITIONS):
        assert got[p] == expected[p], f"partition {p}: {len(got[p])} records, {len(expected[p])} expected"


@pytest.mark.timeout(120)
def test_partition_leaders_check_with_a_remote_coordinator(cluster_factory, topic_name):
    """KIP-890 part 1 across brokers: a partition leader that is not the transaction coordinator
    asks the coordinator before the first transactional batch of a producer; a partition not added
    to the transaction, or a batch after EndTxn, is refused."""
    from test_txn_coordinator import INVALID_TXN_STATE, NONE, add_partitions, describe_txns, end_txn
    from test_idempotent_producer import init_producer_id
    from test_txn_partition import batch, produce
    cluster = cluster_factory(3, FAST)
    cluster.create_topic(topic_name, 3, 1)
    tid = f"{topic_name}-txn"
    coordinator_id = transaction_coordinator(cluster, tid)
    leaders = {p: cluster.partition(topic_name, p)["leader"] for p in range(3)}
    p = next((p for p, leader in leaders.items() if leader != coordinator_id), None)
    assert p is not None, f"every partition is led by the coordinator {coordinator_id}: {leaders}"
    coord, leader = cluster.brokers[coordinator_id], cluster.brokers[leaders[p]]
    with KafkaConnection(coord.host, coord.port) as c, KafkaConnection(leader.host, leader.port) as lc:
        err, pid, epoch = cluster.wait_for("InitProducerId", lambda: (lambda r: r if r[0] == NONE else None)(
            init_producer_id(c, 4, transactional_id=tid, timeout_ms=60000)))
        assert produce(lc, topic_name, batch([b"early"], pid, epoch, 0, True), tid, partition=p)[0] == INVALID_TXN_STATE
        assert add_partitions(c, 3, tid, pid, epoch, {topic_name: [p]}) == {(topic_name, p): NONE}
        assert produce(lc, topic_name, batch([b"a"], pid, epoch, 0, True), tid, partition=p) == (NONE, 0)
        assert end_txn(c, 3, tid, pid, epoch, True) == NONE
        cluster.wait_for("CompleteCommit", lambda: describe_txns(c, [tid])[tid]["state"] == "CompleteCommit")
        assert produce(lc, topic_name, batch([b"late"], pid, epoch, 1, True), tid, partition=p)[0] == INVALID_TXN_STATE
        assert lc.list_offsets(topic_name, p, -1) == (NONE, 2), "one record and its COMMIT marker"
