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
