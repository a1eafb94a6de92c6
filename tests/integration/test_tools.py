"""Tests of the test tools in tests/tools/: the capture proxy and the fault proxy."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from capture_proxy import CaptureProxy
from conftest import free_port
from fault_proxy import FaultProxy
from kafkawire import (API_API_VERSIONS, ConnectionClosed, KafkaConnection, Record, build_batch,
                       request_frame)

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")


def test_capture_proxy_records_exact_frames(broker, topic_name, tmp_path):
    broker.create_topic(topic_name, 1)
    out = tmp_path / "captured"
    batch = build_batch([Record(b"key", b"captured value", [("h", b"v")], 1_700_000_000_000)])
    with CaptureProxy((broker.host, broker.port), str(out), responses=True) as proxy:
        host, port = proxy.address
        with KafkaConnection(host, port) as conn:
            err, versions = conn.api_versions()
            assert err == 0
            assert topic_name in conn.metadata([topic_name])
            assert conn.produce(topic_name, 0, batch, acks=-1, version=7) == (0, 0)
            assert conn.list_offsets(topic_name, 0, -1) == (0, 1)
    index = [json.loads(line) for line in open(out / "index.jsonl")]
    requests = [e for e in index if e["direction"] == "request"]
    assert [(e["seq"], e["api_key"], e["api_version"], e["correlation_id"]) for e in requests] == [
        (0, 18, 0, 1), (1, 3, 1, 2), (2, 0, 7, 3), (3, 2, 1, 4)]
    assert [e["file"] for e in requests] == [
        "000000-ApiVersions-k18-v0.request.bin", "000001-Metadata-k3-v1.request.bin",
        "000002-Produce-k0-v7.request.bin", "000003-ListOffsets-k2-v1.request.bin"]
    # The Produce file holds exactly the bytes sent, without the size prefix.
    from kafkawire import enc_array, enc_bytes, enc_string
    import struct
    body = enc_string(None) + struct.pack(">hi", -1, 10000) + enc_array(
        [topic_name], lambda t: enc_string(t) + enc_array(
            [0], lambda p: struct.pack(">i", p) + enc_bytes(batch)))
    assert (out / "000002-Produce-k0-v7.request.bin").read_bytes() == request_frame(0, 7, 3, body)[4:]
    responses = {e["seq"]: e for e in index if e["direction"] == "response"}
    assert sorted(responses) == [0, 1, 2, 3]
    for seq, e in responses.items():
        data = (out / e["file"]).read_bytes()
        assert struct.unpack(">i", data[:4])[0] == e["correlation_id"] == seq + 1
        assert len(data) == e["size"]


@pytest.mark.sluice_only  # needs advertised.listeners so librdkafka reconnects through the proxy
def test_capture_proxy_cli_records_kcat(broker, topic_name, tmp_path):
    proxy_port = free_port()
    broker.settings["advertised.listeners"] = f"PLAINTEXT://127.0.0.1:{proxy_port}"
    broker.restart()
    out = tmp_path / "captured"
    proc = subprocess.Popen([sys.executable, os.path.join(TOOLS, "capture_proxy.py"),
                             "--upstream", broker.bootstrap, "--listen", f"127.0.0.1:{proxy_port}",
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = proc.stdout.readline().decode().strip()
        assert line == f"listening=127.0.0.1:{proxy_port}", (line, proc.stderr.read())
        broker.create_topic(topic_name, 1)  # clients now reach the broker through the proxy
        values = [f"kcat-captured-{i}" for i in range(10)]
        kcat = subprocess.run(["kcat", "-P", "-b", f"127.0.0.1:{proxy_port}", "-t", topic_name,
                               "-p", "0", "-X", "acks=all"],
                              input="\n".join(values).encode(), capture_output=True, timeout=60)
        assert kcat.returncode == 0, kcat.stderr.decode()
    finally:
        proc.terminate()
        proc.wait(10)
    index = [json.loads(line) for line in open(out / "index.jsonl")]
    seen = {(e["api_key"], e["api_version"]) for e in index}
    assert (18, 3) in seen, f"no ApiVersions v3 (librdkafka's first request) captured: {sorted(seen)}"
    produce = [e for e in index if e["api_key"] == 0]
    assert produce and all(e["api_version"] == 7 for e in produce), produce
    blob = b"".join((out / e["file"]).read_bytes() for e in produce)
    assert all(v.encode() in blob for v in values)


def _send_pipelined_api_versions(host, port, n):
    """Sends n ApiVersions v0 requests back to back; returns the correlation ids answered."""
    with KafkaConnection(host, port, timeout=1.0) as conn:
        for _ in range(n):
            conn.send(API_API_VERSIONS, 0, b"")
        got = []
        try:
            while True:
                corr, _ = conn.recv_response()
                got.append(corr)
        except (socket.timeout, ConnectionClosed):
            pass
    return got


def _drop_run(broker, seed, n=20):
    with FaultProxy((broker.host, broker.port), seed=seed, drop_response_rate=0.5,
                    apis={API_API_VERSIONS}) as proxy:
        got = _send_pipelined_api_versions(*proxy.address, n)
        faults = list(proxy.faults)
    return got, faults


def test_fault_proxy_drops_responses_deterministically(broker):
    got, faults = _drop_run(broker, seed=7)
    dropped = [f["correlation_id"] for f in faults]
    assert all(f["action"] == "drop" and f["api_key"] == 18 for f in faults)
    assert 0 < len(dropped) < 20
    assert got == [c for c in range(1, 21) if c not in dropped]
    again, _ = _drop_run(broker, seed=7)
    assert again == got, "same seed, same traffic: the same responses must be dropped"
    other, _ = _drop_run(broker, seed=8)
    assert other != got


def test_fault_proxy_reset_after_broker_applied(broker, topic_name):
    broker.create_topic(topic_name, 1)
    batch = build_batch([Record(b"k", b"applied but unacknowledged", [], 1_700_000_000_000)])
    with FaultProxy((broker.host, broker.port), seed=1, reset_rate=1.0, apis={0}) as proxy:
        with KafkaConnection(*proxy.address) as conn:
            with pytest.raises((ConnectionClosed, ConnectionResetError)):
                conn.produce(topic_name, 0, batch, acks=-1, version=7)
        assert [(f["action"], f["api_key"]) for f in proxy.faults] == [("reset", 0)]
    # The broker appended the batch although the client never got the response.
    with KafkaConnection(broker.host, broker.port) as conn:
        deadline = time.monotonic() + 5
        while conn.list_offsets(topic_name, 0, -1) != (0, 1) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert conn.list_offsets(topic_name, 0, -1) == (0, 1)
