"""Idempotent producer (issue 5): exactly once and in order across lost responses, reset
connections and broker crashes, plus the broker's sequence/epoch rules on crafted requests.

The load tests send SLUICE_IDEMPOTENT_RECORDS (default 1,000,000) records with librdkafka
(confluent-kafka) enable.idempotence=true, acks=all, max.in.flight=5 to a 6-partition topic
through tests/tools/fault_proxy.py, which drops Produce responses and resets connections (instead
of delivering a Produce response) at seeded random. A dropped response stalls its connection
(--stall-after-drop: no later response arrives on it, as with a real TCP connection whose peer
went dark) until librdkafka's request timeout closes it and the batches are retried. Record values are "<partition>:<sequence>", the producer's own
per-partition counter, so the consumed log must hold, per partition, exactly 0..n-1 in order.
"""

import json
import os
import signal
import struct
import subprocess
import sys
import time

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from conftest import free_port
from kafkawire import (KafkaConnection, Reader, Record, build_batch, enc_string, fetch_all_batches,
                       parse_batches, uvarint)

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(os.path.dirname(HERE), "tools")

RECORDS = int(os.environ.get("SLUICE_IDEMPOTENT_RECORDS", "1000000"))
PARTITIONS = 6
API_INIT_PRODUCER_ID = 22

NONE = 0
OUT_OF_ORDER_SEQUENCE_NUMBER = 45
INVALID_PRODUCER_EPOCH = 47
INVALID_TXN_STATE = 48
TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53
NOT_COORDINATOR = 16
UNKNOWN_PRODUCER_ID = 59
INVALID_REQUEST = 42
INVALID_RECORD = 87


# ---- crafted requests -------------------------------------------------------------------------

def init_producer_id(conn, version, transactional_id=None, producer_id=-1, producer_epoch=-1,
                     timeout_ms=60000):
    """InitProducerId v0-4 (v2+ flexible: request header v2, response header v1).
    Returns (error_code, producer_id, producer_epoch)."""
    flexible = version >= 2
    if flexible:
        tid = b"\x00" if transactional_id is None else uvarint(len(transactional_id) + 1) + transactional_id.encode()
    else:
        tid = enc_string(transactional_id)
    body = tid + struct.pack(">i", timeout_ms)
    if version >= 3:
        body += struct.pack(">qh", producer_id, producer_epoch)
    if flexible:
        body += b"\x00"  # tagged fields
    corr = conn._next_corr
    conn._next_corr += 1
    header = struct.pack(">hhi", API_INIT_PRODUCER_ID, version, corr) + enc_string("sluice-itest")
    if flexible:
        header += b"\x00"
    payload = header + body
    conn.sock.sendall(struct.pack(">i", len(payload)) + payload)
    got, resp = conn.recv_response()
    assert got == corr
    if flexible:
        assert resp[0] == 0, "response header v1: no tagged fields expected"
        resp = resp[1:]
    r = Reader(resp)
    r.int32()  # throttle_time_ms
    err, pid, epoch = r.int16(), r.int64(), r.int16()
    if flexible:
        assert r.data[r.pos:] == b"\x00", "trailing tagged fields"
    else:
        assert r.remaining() == 0
    return err, pid, epoch


def idem_batch(pid, epoch, seq, n=1, tag="x"):
    ts = int(time.time() * 1000)
    recs = [Record(None, f"{tag}-{seq + i}".encode(), [], ts) for i in range(n)]
    return build_batch(recs, producer_id=pid, producer_epoch=epoch, base_sequence=seq)


@pytest.mark.sluice_only
def test_init_producer_id_all_versions_give_unique_ids(broker):
    ids = set()
    with KafkaConnection(broker.host, broker.port) as conn:
        err, api = conn.api_versions()
        assert err == 0 and api[API_INIT_PRODUCER_ID] == (0, 4)
        for version in range(5):
            err, pid, epoch = init_producer_id(conn, version)
            assert (err, epoch) == (NONE, 0), version
            assert pid >= 0 and pid not in ids
            ids.add(pid)
        # KIP-360 (v3+) with the current id/epoch: like Kafka without a transactional id, a new id.
        err, pid, epoch = init_producer_id(conn, 3, producer_id=max(ids), producer_epoch=0)
        assert err == NONE and epoch == 0 and pid not in ids
        ids.add(pid)
        # Half-set id/epoch is INVALID_REQUEST.
        assert init_producer_id(conn, 4, producer_id=5, producer_epoch=-1)[0] == INVALID_REQUEST
        assert init_producer_id(conn, 3, producer_id=-1, producer_epoch=2)[0] == INVALID_REQUEST
        # A transactional id goes to its transaction coordinator, which does not exist before
        # FindCoordinator creates __transaction_state (test_txn_coordinator.py covers the rest);
        # an empty id is INVALID_REQUEST.
        for version in range(5):
            assert init_producer_id(conn, version, transactional_id="txn-1") == (NOT_COORDINATOR, -1, -1)
        assert init_producer_id(conn, 1, transactional_id="")[0] == INVALID_REQUEST
    # Ids are never reused after a restart (blocks come from the metadata store).
    broker.restart()
    with KafkaConnection(broker.host, broker.port) as conn:
        err, pid, _ = init_producer_id(conn, 4)
        assert err == NONE and pid > max(ids)


@pytest.mark.sluice_only
def test_sequence_rules_on_crafted_produce_requests(broker, topic_name):
    broker.create_topic(topic_name, 1)
    with KafkaConnection(broker.host, broker.port) as conn:
        err, pid, epoch = init_producer_id(conn, 1)
        assert err == NONE
        # Unknown producer starting above 0.
        assert conn.produce(topic_name, 0, idem_batch(pid, epoch, 5)) == (UNKNOWN_PRODUCER_ID, -1)
        assert conn.produce(topic_name, 0, idem_batch(pid, epoch, 0, 3)) == (NONE, 0)
        assert conn.produce(topic_name, 0, idem_batch(pid, epoch, 3, 2)) == (NONE, 3)
        # Skipped sequence 5 -> OUT_OF_ORDER_SEQUENCE_NUMBER, nothing appended.
        assert conn.produce(topic_name, 0, idem_batch(pid, epoch, 6)) == (OUT_OF_ORDER_SEQUENCE_NUMBER, -1)
        # Exact retry of the first batch: its original offset, not appended again.
        assert conn.produce(topic_name, 0, idem_batch(pid, epoch, 0, 3)) == (NONE, 0)
        assert conn.produce(topic_name, 0, idem_batch(pid, epoch, 3, 2)) == (NONE, 3)
        assert conn.produce(topic_name, 0, idem_batch(pid, epoch, 5)) == (NONE, 5)
        # A new epoch starts at 0; afterwards the old epoch is fenced at every Produce version.
        assert conn.produce(topic_name, 0, idem_batch(pid, epoch + 1, 1)) == (OUT_OF_ORDER_SEQUENCE_NUMBER, -1)
        assert conn.produce(topic_name, 0, idem_batch(pid, epoch + 1, 0)) == (NONE, 6)
        for version in (3, 5, 7):
            assert conn.produce(topic_name, 0, idem_batch(pid, epoch, 6), version=version) == (
                INVALID_PRODUCER_EPOCH, -1)
        # A producer id without a sequence is malformed; a transactional batch needs a
        # transactional id in the request (Kafka's KafkaApis).
        assert conn.produce(topic_name, 0, idem_batch(pid, epoch + 1, -1))[0] == INVALID_RECORD
        txn = build_batch([Record(None, b"t", [], int(time.time() * 1000))], attributes=0x10,
                          producer_id=pid, producer_epoch=epoch + 1, base_sequence=1)
        assert conn.produce(topic_name, 0, txn)[0] == TRANSACTIONAL_ID_AUTHORIZATION_FAILED
        assert conn.list_offsets(topic_name, 0, -1) == (0, 7)
        values = [r.value for b in fetch_all_batches(conn, topic_name, 0) for r in parse_batches(b.raw)[0].records]
    assert values == [b"x-0", b"x-1", b"x-2", b"x-3", b"x-4", b"x-5", b"x-0"]
    # The rules hold after a crash (state rebuilt from the log) and after a clean restart
    # (state from the snapshot written at shutdown).
    for how in ("sigkill", "clean"):
        if how == "sigkill":
            broker.kill(signal.SIGKILL)
        broker.restart()
        with KafkaConnection(broker.host, broker.port) as conn:
            assert conn.produce(topic_name, 0, idem_batch(pid, epoch + 1, 0)) == (NONE, 6), how
            assert conn.produce(topic_name, 0, idem_batch(pid, epoch, 6)) == (INVALID_PRODUCER_EPOCH, -1), how
            assert conn.produce(topic_name, 0, idem_batch(pid, epoch + 1, 2)) == (OUT_OF_ORDER_SEQUENCE_NUMBER, -1), how
    with KafkaConnection(broker.host, broker.port) as conn:
        assert conn.produce(topic_name, 0, idem_batch(pid, epoch + 1, 1)) == (NONE, 7)
        assert conn.list_offsets(topic_name, 0, -1) == (0, 8)


# ---- librdkafka through the fault proxy -------------------------------------------------------

class ProxyProcess:
    def __init__(self, upstream_port, listen_port, seed, drop, reset, log_path):
        self.log_path = log_path
        self.stderr_path = log_path + ".stderr"
        self._stderr = open(self.stderr_path, "wb")  # a file, never a pipe nobody drains
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(TOOLS, "fault_proxy.py"), "--upstream", f"127.0.0.1:{upstream_port}",
             "--listen", f"127.0.0.1:{listen_port}", "--seed", str(seed), "--drop-response-rate", str(drop),
             "--reset-rate", str(reset), "--apis", "0", "--log", log_path, "--stall-after-drop"],
            stdout=subprocess.PIPE, stderr=self._stderr, start_new_session=True)
        line = self.proc.stdout.readline().decode().strip()
        assert line == f"listening=127.0.0.1:{listen_port}", (line, self.stderr_tail())

    def stderr_tail(self):
        with open(self.stderr_path, "rb") as f:
            return f.read()[-3000:].decode(errors="replace")

    def faults(self):
        if not os.path.exists(self.log_path):
            return []
        with open(self.log_path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._stderr.close()


def _consume_values(bootstrap, topic, ends):
    """Every value of every partition up to ends[p], in offset order."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"verify-{topic}", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "fetch.max.bytes": 52428800})
    try:
        c.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS) if ends[p] > 0])
        values = {p: [] for p in range(PARTITIONS)}
        pos = {p: 0 for p in range(PARTITIONS)}
        last = time.monotonic()
        while any(pos[p] < ends[p] for p in pos):
            assert time.monotonic() - last < 30, f"consume stalled at {pos} of {ends}"
            for m in c.consume(num_messages=20000, timeout=0.5):
                assert not m.error(), m.error()
                p = m.partition()
                if m.offset() < ends[p]:
                    values[p].append(m.value())
                    pos[p] = m.offset() + 1
                last = time.monotonic()
        return values
    finally:
        c.close()


def _high_watermarks(bootstrap, topic):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": f"hw-{topic}"})
    try:
        return [c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(PARTITIONS)]
    finally:
        c.close()


def run_idempotent_load(broker, topic, tmp_path, seed, kills_at=()):
    """Sends RECORDS records through the fault proxy; SIGKILLs and restarts the broker when the
    delivered count passes each fraction in kills_at. Returns a summary dict."""
    proxy_port = free_port()
    broker.settings["advertised.listeners"] = f"PLAINTEXT://127.0.0.1:{proxy_port}"
    broker.restart()
    proxy = ProxyProcess(broker.port, proxy_port, seed, drop=0.01, reset=0.02,
                         log_path=str(tmp_path / "faults.jsonl"))
    try:
        broker.create_topic(topic, PARTITIONS)
        delivered = [0]
        failed = []
        fatal = []

        def on_delivery(err, msg):
            if err is not None:
                failed.append(err)
            else:
                delivered[0] += 1

        def on_error(err):
            if err.fatal():
                fatal.append(err)

        p = Producer({
            "bootstrap.servers": f"127.0.0.1:{proxy_port}",
            "enable.idempotence": True, "acks": "all", "max.in.flight.requests.per.connection": 5,
            "linger.ms": 5, "batch.num.messages": 2000, "queue.buffering.max.messages": 300000,
            # A stalled connection costs socket.timeout.ms (librdkafka's client-side timeout for
            # ProduceRequests when message.timeout.ms is infinite) before librdkafka reconnects.
            "socket.timeout.ms": 2000, "message.timeout.ms": 0, "retry.backoff.ms": 20,
            "reconnect.backoff.ms": 20, "reconnect.backoff.max.ms": 200, "error_cb": on_error,
        })
        start = time.monotonic()
        counters = [0] * PARTITIONS
        pending_kills = [int(f * RECORDS) for f in kills_at]
        kill_times = []
        i = 0
        while i < RECORDS:
            part = i % PARTITIONS
            try:
                p.produce(topic, value=b"%d:%d" % (part, counters[part]), partition=part, on_delivery=on_delivery)
            except BufferError:
                p.poll(0.01)
                continue
            counters[part] += 1
            i += 1
            if i % 5000 == 0:
                p.poll(0)
                assert not fatal, f"fatal producer error: {fatal}"
                assert time.monotonic() - start < 150, f"only {i} records queued after 150 s"
            if pending_kills and delivered[0] >= pending_kills[0]:
                pending_kills.pop(0)
                broker.kill(signal.SIGKILL)
                broker.restart()
                kill_times.append(round(time.monotonic() - start, 1))
        # Kills not reached while queueing happen while the queue drains.
        while pending_kills and delivered[0] < RECORDS and not failed and not fatal:
            p.poll(0.05)
            assert time.monotonic() - start < 150, f"{delivered[0]} delivered after 150 s"
            if delivered[0] >= pending_kills[0]:
                pending_kills.pop(0)
                broker.kill(signal.SIGKILL)
                broker.restart()
                kill_times.append(round(time.monotonic() - start, 1))
        left = p.flush(120)
        produce_s = time.monotonic() - start
        assert not fatal, f"fatal producer error: {fatal}"
        assert left == 0, f"{left} records undelivered"
        assert not failed, f"{len(failed)} delivery failures, first {failed[:3]}"
        assert delivered[0] == RECORDS
        broker.check_not_crashed()

        ends = _high_watermarks(f"127.0.0.1:{proxy_port}", topic)
        values = _consume_values(f"127.0.0.1:{proxy_port}", topic, ends)
        faults = proxy.faults()
    finally:
        proxy.stop()
    total = sum(len(v) for v in values.values())
    duplicates = total - len({v for vs in values.values() for v in vs})
    summary = {"records": RECORDS, "consumed": total, "duplicates": duplicates, "high_watermarks": ends,
               "faults": {a: sum(1 for f in faults if f["action"] == a) for a in ("drop", "reset", "stall")},
               "kills_at_s": kill_times, "produce_s": round(produce_s, 1),
               "total_s": round(time.monotonic() - start, 1)}
    print(f"idempotent load: {summary}")
    for part in range(PARTITIONS):
        expected = [b"%d:%d" % (part, s) for s in range(counters[part])]
        got = values[part]
        if got != expected:
            first = next((k for k in range(min(len(got), len(expected))) if got[k] != expected[k]), None)
            raise AssertionError(
                f"partition {part}: {len(got)} records consumed, {len(expected)} sent, first difference at "
                f"offset {first}: {got[first] if first is not None else None!r} vs "
                f"{expected[first] if first is not None else None!r}; summary {summary}")
    assert duplicates == 0 and total == RECORDS, summary
    assert summary["faults"]["drop"] + summary["faults"]["reset"] > 0, f"the proxy injected no fault: {summary}"
    return summary


@pytest.mark.sluice_only
def test_idempotent_librdkafka_through_fault_proxy_exactly_once_in_order(broker, topic_name, tmp_path):
    run_idempotent_load(broker, topic_name, tmp_path, seed=5)


@pytest.mark.sluice_only
# 1 MiB segments: partitions roll several times, so restarts load producer snapshots and replay
# only the log after them.
@pytest.mark.broker_config({"log.segment.bytes": "1048576"})
def test_idempotent_librdkafka_survives_two_sigkills(broker, topic_name, tmp_path):
    summary = run_idempotent_load(broker, topic_name, tmp_path, seed=11, kills_at=(0.3, 0.65))
    assert len(summary["kills_at_s"]) == 2, summary
    snapshots = [f for p in range(PARTITIONS)
                 for f in os.listdir(os.path.join(broker.data_dir, f"{topic_name}-{p}")) if f.endswith(".snapshot")]
    assert len(snapshots) >= PARTITIONS, f"expected producer snapshots at segment rolls, found {snapshots}"
