"""Transaction coordinator (issue 8), coordinator side, on crafted requests: InitProducerId with a
transactional id, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, DescribeTransactions and
ListTransactions against one broker. The COMMIT/ABORT markers themselves (WriteTxnMarkers, the
partition side) are not exercised here: a transaction with partitions stays in PrepareCommit /
PrepareAbort until they are written, which is what these tests observe.
"""

import struct
import time

import pytest

from kafkawire import KafkaConnection, Reader, compact_array, compact_string, enc_array, enc_string
from test_idempotent_producer import init_producer_id

API_FIND_COORDINATOR = 10
API_ADD_PARTITIONS_TO_TXN = 24
API_ADD_OFFSETS_TO_TXN = 25
API_END_TXN = 26
API_DESCRIBE_TRANSACTIONS = 65
API_LIST_TRANSACTIONS = 66

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
COORDINATOR_LOAD_IN_PROGRESS = 14
NOT_COORDINATOR = 16
INVALID_PRODUCER_EPOCH = 47
INVALID_TXN_STATE = 48
INVALID_PRODUCER_ID_MAPPING = 49
INVALID_TRANSACTION_TIMEOUT = 50
CONCURRENT_TRANSACTIONS = 51
OPERATION_NOT_ATTEMPTED = 55
PRODUCER_FENCED = 90
TRANSACTIONAL_ID_NOT_FOUND = 105

pytestmark = pytest.mark.sluice_only


# ---- crafted requests -------------------------------------------------------------------------

def find_txn_coordinator(conn, transactional_id):
    """FindCoordinator v1, key type 1 (transaction). Returns (error, node id)."""
    body = enc_string(transactional_id) + struct.pack(">b", 1)
    r = Reader(conn.request(API_FIND_COORDINATOR, 1, body))
    r.int32()  # throttle
    err = r.int16()
    r.string()  # error message (nullable)
    node = r.int32()
    r.string(), r.int32()
    return err, node


def add_partitions(conn, version, tid, pid, epoch, topics):
    """AddPartitionsToTxn v0-3; topics = {name: [partitions]}. Returns {(topic, partition): error}."""
    items = list(topics.items())
    if version >= 3:
        body = compact_string(tid) + struct.pack(">qh", pid, epoch)
        body += compact_array(items, lambda t: compact_string(t[0]) + compact_array(
            t[1], lambda p: struct.pack(">i", p)) + b"\x00") + b"\x00"
        r = conn.flexible_request(API_ADD_PARTITIONS_TO_TXN, version, body)
        r.int32()
        out = {}
        for name, parts in r.compact_array(lambda r: (r.compact_string(), r.compact_array(
                lambda r: (r.int32(), r.int16(), r.tagged_fields())[:2]), r.tagged_fields())[:2]):
            for p, e in parts:
                out[(name, p)] = e
        r.done()
        return out
    body = enc_string(tid) + struct.pack(">qh", pid, epoch)
    body += enc_array(items, lambda t: enc_string(t[0]) + enc_array(t[1], lambda p: struct.pack(">i", p)))
    r = Reader(conn.request(API_ADD_PARTITIONS_TO_TXN, version, body))
    r.int32()
    out = {}
    for name, parts in r.array(lambda r: (r.string(), r.array(lambda r: (r.int32(), r.int16())))):
        for p, e in parts:
            out[(name, p)] = e
    assert r.remaining() == 0
    return out


def add_offsets(conn, version, tid, pid, epoch, group):
    assert version < 3
    body = enc_string(tid) + struct.pack(">qh", pid, epoch) + enc_string(group)
    r = Reader(conn.request(API_ADD_OFFSETS_TO_TXN, version, body))
    r.int32()
    err = r.int16()
    assert r.remaining() == 0
    return err


def end_txn(conn, version, tid, pid, epoch, commit):
    if version >= 3:
        body = compact_string(tid) + struct.pack(">qhb", pid, epoch, 1 if commit else 0) + b"\x00"
        r = conn.flexible_request(API_END_TXN, version, body)
        r.int32()
        err = r.int16()
        r.done()
        return err
    body = enc_string(tid) + struct.pack(">qhb", pid, epoch, 1 if commit else 0)
    r = Reader(conn.request(API_END_TXN, version, body))
    r.int32()
    err = r.int16()
    assert r.remaining() == 0
    return err


def describe_txns(conn, ids):
    """DescribeTransactions v0: {id: dict}."""
    body = compact_array(ids, compact_string) + b"\x00"
    r = conn.flexible_request(API_DESCRIBE_TRANSACTIONS, 0, body)
    r.int32()

    def entry(r):
        e = {"error": r.int16(), "id": r.compact_string(), "state": r.compact_string(),
             "timeout_ms": r.int32(), "start_ms": r.int64(), "producer_id": r.int64(), "epoch": r.int16()}

        def topic(r):
            name = r.compact_string()
            parts = r.compact_array(lambda r: r.int32())
            r.tagged_fields()
            return name, parts

        e["topics"] = dict(r.compact_array(topic))
        r.tagged_fields()
        return e

    out = {e["id"]: e for e in r.compact_array(entry)}
    r.done()
    return out


def list_txns(conn, states=(), producer_ids=(), duration_ms=None):
    """ListTransactions v0, or v1 with duration_ms: (error, unknown_state_filters,
    {id: (producer_id, state)})."""
    body = compact_array(list(states), compact_string)
    body += compact_array(list(producer_ids), lambda p: struct.pack(">q", p))
    version = 0
    if duration_ms is not None:
        body += struct.pack(">q", duration_ms)
        version = 1
    r = conn.flexible_request(API_LIST_TRANSACTIONS, version, body + b"\x00")
    r.int32()
    err = r.int16()
    unknown = r.compact_array(Reader.compact_string)

    def entry(r):
        tid = r.compact_string()
        pid = r.int64()
        state = r.compact_string()
        r.tagged_fields()
        return tid, (pid, state)

    txns = dict(r.compact_array(entry))
    r.done()
    return err, unknown, txns


def coordinator_ready(conn, tid):
    """FindCoordinator creates __transaction_state and loads it: this single broker coordinates."""
    err, node = find_txn_coordinator(conn, tid)
    assert err == NONE and node >= 0, (err, node)


# ---- tests ------------------------------------------------------------------------------------

def test_advertised_transaction_apis(broker):
    with KafkaConnection(broker.host, broker.port) as conn:
        err, api = conn.api_versions()
        assert err == 0
        assert api[API_ADD_PARTITIONS_TO_TXN] == (0, 3)
        assert api[API_ADD_OFFSETS_TO_TXN] == (0, 3)
        assert api[API_END_TXN] == (0, 3)
        assert api[API_DESCRIBE_TRANSACTIONS] == (0, 0)
        assert api[API_LIST_TRANSACTIONS] == (0, 1)


def test_init_producer_id_with_transactional_id_bumps_epoch(broker):
    with KafkaConnection(broker.host, broker.port) as conn:
        # Before __transaction_state exists nothing coordinates the id.
        assert init_producer_id(conn, 4, transactional_id="tx-a")[0] == NOT_COORDINATOR
        coordinator_ready(conn, "tx-a")
        err, pid, epoch = init_producer_id(conn, 4, transactional_id="tx-a", timeout_ms=30000)
        assert (err, epoch) == (NONE, 0) and pid >= 0
        # Every call keeps the id and bumps the epoch, at every version.
        for version, want in ((0, 1), (1, 2), (2, 3), (4, 4)):
            assert init_producer_id(conn, version, transactional_id="tx-a") == (NONE, pid, want)
        # KIP-360 with the current id/epoch: bumped too.
        assert init_producer_id(conn, 3, transactional_id="tx-a", producer_id=pid, producer_epoch=4) == (NONE, pid, 5)
        # A stale epoch is fenced: PRODUCER_FENCED at v4, INVALID_PRODUCER_EPOCH before (KIP-588).
        assert init_producer_id(conn, 4, transactional_id="tx-a", producer_id=pid, producer_epoch=2)[0] == PRODUCER_FENCED
        assert init_producer_id(conn, 3, transactional_id="tx-a", producer_id=pid,
                                producer_epoch=2)[0] == INVALID_PRODUCER_EPOCH
        # transaction.timeout.ms above transaction.max.timeout.ms (900000) or not positive.
        assert init_producer_id(conn, 4, transactional_id="tx-a", timeout_ms=900001)[0] == INVALID_TRANSACTION_TIMEOUT
        assert init_producer_id(conn, 4, transactional_id="tx-a", timeout_ms=0)[0] == INVALID_TRANSACTION_TIMEOUT
        # Another id gets another producer id.
        err, other, e0 = init_producer_id(conn, 4, transactional_id="tx-b")
        assert err == NONE and other != pid and e0 == 0
        d = describe_txns(conn, ["tx-a"])["tx-a"]
        assert (d["error"], d["state"], d["producer_id"], d["epoch"]) == (NONE, "Empty", pid, 5)
    # The state is in __transaction_state: a restarted broker continues from it.
    broker.restart()
    with KafkaConnection(broker.host, broker.port) as conn:
        coordinator_ready(conn, "tx-a")
        # The partitions load in the background after a start; clients retry meanwhile.
        deadline = time.monotonic() + 15
        got = init_producer_id(conn, 4, transactional_id="tx-a")
        while got[0] == COORDINATOR_LOAD_IN_PROGRESS and time.monotonic() < deadline:
            time.sleep(0.05)
            got = init_producer_id(conn, 4, transactional_id="tx-a")
        assert got == (NONE, pid, 6)


def test_add_partitions_and_end_txn_state_errors(broker, topic_name):
    broker.create_topic(topic_name, 2)
    tid = "tx-states"
    with KafkaConnection(broker.host, broker.port) as conn:
        coordinator_ready(conn, tid)
        err, pid, epoch = init_producer_id(conn, 4, transactional_id=tid, timeout_ms=60000)
        assert err == NONE
        # Nothing to end in Empty.
        assert end_txn(conn, 3, tid, pid, epoch, True) == INVALID_TXN_STATE
        # An unknown topic or partition: that one UNKNOWN_TOPIC_OR_PARTITION, the rest not attempted.
        assert add_partitions(conn, 1, tid, pid, epoch, {topic_name: [0, 7], "no-such-topic": [0]}) == {
            (topic_name, 0): OPERATION_NOT_ATTEMPTED, (topic_name, 7): UNKNOWN_TOPIC_OR_PARTITION,
            ("no-such-topic", 0): UNKNOWN_TOPIC_OR_PARTITION}
        assert describe_txns(conn, [tid])[tid]["state"] == "Empty"
        # Wrong producer id, stale epoch (per version), unknown transactional id.
        assert add_partitions(conn, 0, tid, pid + 1, epoch, {topic_name: [0]}) == {
            (topic_name, 0): INVALID_PRODUCER_ID_MAPPING}
        assert add_partitions(conn, 1, tid, pid, epoch + 1, {topic_name: [0]}) == {(topic_name, 0): INVALID_PRODUCER_EPOCH}
        assert add_partitions(conn, 3, tid, pid, epoch + 1, {topic_name: [0]}) == {(topic_name, 0): PRODUCER_FENCED}
        assert add_partitions(conn, 2, "never-initialised", pid, epoch, {topic_name: [0]}) == {
            (topic_name, 0): INVALID_PRODUCER_ID_MAPPING}
        # Added: Ongoing with both partitions, then the group's __consumer_offsets partition.
        assert add_partitions(conn, 3, tid, pid, epoch, {topic_name: [1, 0]}) == {
            (topic_name, 0): NONE, (topic_name, 1): NONE}
        assert add_offsets(conn, 0, tid, pid, epoch, "grp") == NONE
        assert add_offsets(conn, 2, tid, pid, epoch + 1, "grp") == PRODUCER_FENCED
        d = describe_txns(conn, [tid])[tid]
        assert (d["error"], d["state"], d["producer_id"], d["epoch"], d["timeout_ms"]) == (
            NONE, "Ongoing", pid, epoch, 60000)
        assert d["start_ms"] > 0
        assert d["topics"][topic_name] == [0, 1]
        assert list(d["topics"]) == ["__consumer_offsets", topic_name]
        assert len(d["topics"]["__consumer_offsets"]) == 1
        # Ending with a stale epoch is fenced; ending for real answers once PrepareCommit is written.
        assert end_txn(conn, 1, tid, pid, epoch + 1, True) == INVALID_PRODUCER_EPOCH
        assert end_txn(conn, 3, tid, pid, epoch, True) == NONE
        # The partitions' leaders (this broker) write the markers; then the commit completes.
        deadline = time.monotonic() + 30
        while describe_txns(conn, [tid])[tid]["state"] != "CompleteCommit":
            assert time.monotonic() < deadline, describe_txns(conn, [tid])[tid]
            time.sleep(0.05)
        assert describe_txns(conn, [tid])[tid]["topics"] == {}
        # A retried commit is answered again; the other outcome is refused.
        assert end_txn(conn, 3, tid, pid, epoch, True) == NONE
        assert end_txn(conn, 0, tid, pid, epoch, False) == INVALID_TXN_STATE


def test_empty_transaction_commits_at_once(broker):
    tid = "tx-empty"
    with KafkaConnection(broker.host, broker.port) as conn:
        coordinator_ready(conn, tid)
        err, pid, epoch = init_producer_id(conn, 2, transactional_id=tid)
        assert err == NONE
        # AddPartitionsToTxn with no partitions opens a transaction with nothing to mark.
        assert add_partitions(conn, 0, tid, pid, epoch, {}) == {}
        assert describe_txns(conn, [tid])[tid]["state"] == "Ongoing"
        assert end_txn(conn, 0, tid, pid, epoch, True) == NONE
        d = describe_txns(conn, [tid])[tid]
        assert (d["state"], d["topics"]) == ("CompleteCommit", {})
        # A retry of the finished commit succeeds; aborting it is illegal.
        assert end_txn(conn, 2, tid, pid, epoch, True) == NONE
        assert end_txn(conn, 2, tid, pid, epoch, False) == INVALID_TXN_STATE
        # The next transaction, aborted.
        assert add_partitions(conn, 0, tid, pid, epoch, {}) == {}
        assert end_txn(conn, 3, tid, pid, epoch, False) == NONE
        assert describe_txns(conn, [tid])[tid]["state"] == "CompleteAbort"


def test_new_instance_fences_and_aborts_open_transaction(broker, topic_name):
    broker.create_topic(topic_name, 1)
    tid = "tx-zombie"
    with KafkaConnection(broker.host, broker.port) as conn:
        coordinator_ready(conn, tid)
        err, pid, epoch = init_producer_id(conn, 4, transactional_id=tid)
        assert err == NONE
        assert add_partitions(conn, 3, tid, pid, epoch, {topic_name: [0]}) == {(topic_name, 0): NONE}
        # A second instance: the open transaction is aborted with a bumped epoch first.
        assert init_producer_id(conn, 4, transactional_id=tid)[0] == CONCURRENT_TRANSACTIONS
        d = describe_txns(conn, [tid])[tid]
        assert (d["state"], d["producer_id"], d["epoch"]) == ("PrepareAbort", pid, epoch + 1)
        assert d["topics"] == {topic_name: [0]}
        # The old instance is fenced.
        assert end_txn(conn, 3, tid, pid, epoch, True) == PRODUCER_FENCED
        assert end_txn(conn, 1, tid, pid, epoch, True) == INVALID_PRODUCER_EPOCH
        assert add_partitions(conn, 3, tid, pid, epoch, {topic_name: [0]}) == {(topic_name, 0): PRODUCER_FENCED}


def test_describe_and_list_transactions(broker, topic_name):
    broker.create_topic(topic_name, 3)
    with KafkaConnection(broker.host, broker.port) as conn:
        coordinator_ready(conn, "tx-list-1")
        pids = {}
        for tid in ("tx-list-1", "tx-list-2", "tx-list-3"):
            err, pid, epoch = init_producer_id(conn, 4, transactional_id=tid)
            assert err == NONE
            pids[tid] = (pid, epoch)
        pid2, e2 = pids["tx-list-2"]
        assert add_partitions(conn, 3, "tx-list-2", pid2, e2, {topic_name: [2]}) == {(topic_name, 2): NONE}
        pid3, e3 = pids["tx-list-3"]
        assert add_partitions(conn, 3, "tx-list-3", pid3, e3, {}) == {}
        assert end_txn(conn, 3, "tx-list-3", pid3, e3, False) == NONE

        err, unknown, txns = list_txns(conn)
        assert (err, unknown) == (NONE, [])
        assert txns == {"tx-list-1": (pids["tx-list-1"][0], "Empty"), "tx-list-2": (pid2, "Ongoing"),
                        "tx-list-3": (pid3, "CompleteAbort")}
        assert list_txns(conn, states=["Ongoing"]) == (NONE, [], {"tx-list-2": (pid2, "Ongoing")})
        assert list_txns(conn, states=["Empty", "Bogus"]) == (
            NONE, ["Bogus"], {"tx-list-1": (pids["tx-list-1"][0], "Empty")})
        assert list_txns(conn, states=["Bogus"]) == (NONE, ["Bogus"], {})
        assert list_txns(conn, producer_ids=[pid3]) == (NONE, [], {"tx-list-3": (pid3, "CompleteAbort")})
        assert list_txns(conn, states=["Ongoing"], producer_ids=[pid3]) == (NONE, [], {})
        # v1 (KIP-994): -1 filters nothing; otherwise only transactions started longer ago than
        # the filter (tx-list-1 is Empty: never started).
        assert list_txns(conn, duration_ms=-1) == (NONE, [], txns)
        time.sleep(0.05)
        err, _, running = list_txns(conn, duration_ms=0)
        assert err == NONE and running.get("tx-list-2") == (pid2, "Ongoing") and "tx-list-1" not in running
        assert list_txns(conn, states=["Ongoing"], duration_ms=0) == (NONE, [], {"tx-list-2": (pid2, "Ongoing")})
        assert list_txns(conn, duration_ms=3_600_000) == (NONE, [], {})

        d = describe_txns(conn, ["tx-list-2", "nobody", "tx-list-1"])
        assert d["tx-list-2"]["state"] == "Ongoing" and d["tx-list-2"]["topics"] == {topic_name: [2]}
        assert d["tx-list-2"]["producer_id"] == pid2
        assert d["nobody"]["error"] == TRANSACTIONAL_ID_NOT_FOUND
        assert d["tx-list-1"]["state"] == "Empty" and d["tx-list-1"]["start_ms"] == -1


def test_coordinator_aborts_transaction_past_its_timeout(broker, topic_name):
    broker.create_topic(topic_name, 1)
    tid = "tx-timeout"
    with KafkaConnection(broker.host, broker.port) as conn:
        coordinator_ready(conn, tid)
        err, pid, epoch = init_producer_id(conn, 4, transactional_id=tid, timeout_ms=1000)
        assert err == NONE
        assert add_partitions(conn, 3, tid, pid, epoch, {topic_name: [0]}) == {(topic_name, 0): NONE}
        started = time.monotonic()
        deadline = started + 15
        d = describe_txns(conn, [tid])[tid]
        while d["state"] == "Ongoing" and time.monotonic() < deadline:
            time.sleep(0.1)
            d = describe_txns(conn, [tid])[tid]
        # Aborted by the coordinator, no earlier than the timeout, with a bumped (fencing) epoch.
        assert d["state"] in ("PrepareAbort", "CompleteAbort"), d
        assert time.monotonic() - started >= 0.9
        assert (d["producer_id"], d["epoch"]) == (pid, epoch + 1)
        assert end_txn(conn, 3, tid, pid, epoch, True) == PRODUCER_FENCED


def test_produce_outside_the_coordinators_transaction_is_refused(broker, topic_name):
    """KIP-890 part 1: a transactional batch to a partition not added to the producer's ongoing
    transaction, or arriving after EndTxn (the hole Jepsen found), is refused; nothing is appended."""
    from test_txn_partition import batch, produce
    broker.create_topic(topic_name, 2)
    tid = "tx-verified"
    with KafkaConnection(broker.host, broker.port) as conn:
        coordinator_ready(conn, tid)
        err, pid, epoch = init_producer_id(conn, 4, transactional_id=tid, timeout_ms=60000)
        assert err == NONE
        assert produce(conn, topic_name, batch([b"early"], pid, epoch, 0, True), tid)[0] == INVALID_TXN_STATE
        assert add_partitions(conn, 3, tid, pid, epoch, {topic_name: [0]}) == {(topic_name, 0): NONE}
        assert produce(conn, topic_name, batch([b"a", b"b"], pid, epoch, 0, True), tid) == (NONE, 0)
        assert produce(conn, topic_name, batch([b"other"], pid, epoch, 0, True), tid, partition=1)[0] == \
            INVALID_TXN_STATE
        assert end_txn(conn, 3, tid, pid, epoch, True) == NONE
        deadline = time.monotonic() + 30
        while describe_txns(conn, [tid])[tid]["state"] != "CompleteCommit":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # The late batch continues the producer's sequence but belongs to no transaction.
        assert produce(conn, topic_name, batch([b"late"], pid, epoch, 2, True), tid)[0] == INVALID_TXN_STATE
        assert conn.list_offsets(topic_name, 0, -1) == (NONE, 3), "two records and the COMMIT marker"
        assert conn.list_offsets(topic_name, 1, -1) == (NONE, 0)
