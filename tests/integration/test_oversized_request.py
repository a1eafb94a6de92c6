"""A request whose 4-byte size prefix claims far more than socket.request.max.bytes (or a
negative size): the broker closes that connection without allocating the claimed size, stays
up, and serves a normal client afterwards."""

import socket
import struct
import time

import pytest

from clients import consume_confluent, produce_confluent
from kafkawire import KafkaConnection
from roundtrip import make_dataset, verify_roundtrip

RSS_GROWTH_LIMIT_KIB = 64 * 1024  # far below every claimed size tested here


def claim_and_wait_for_close(host, port, claimed_size, timeout=10.0):
    """Sends a size prefix plus a plausible header start; returns how the connection ended."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        # Produce v7, correlation id 1, client id "x", then nothing more of the claimed body.
        s.sendall(struct.pack(">i", claimed_size) + struct.pack(">hhih", 0, 7, 1, 1) + b"x" + b"\0" * 16)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                return "reset"
            except socket.timeout:
                break
            if not data:
                return "closed"
            return f"answered with {len(data)} bytes: {data[:32].hex()}"
        return "still open"


def assert_serves_normal_client(broker, topic):
    with KafkaConnection(broker.host, broker.port) as conn:
        err, versions = conn.api_versions()
        assert err == 0 and 0 in versions and 1 in versions
    records = make_dataset(topic, n=200)
    produce_confluent(broker.bootstrap, topic, records, acks="all")
    consumed = consume_confluent(broker.bootstrap, topic, 1)
    verify_roundtrip(records, consumed, 1, client="confluent-kafka-python after oversized request")


@pytest.mark.parametrize("claimed", [0x7FFFFFFF, 104857600 + 1, -1],
                         ids=["2GiB", "max-plus-1", "negative"])
def test_oversized_request_closes_connection(broker, topic_name, claimed):
    broker.create_topic(topic_name, 1)
    rss_before = broker.rss_kib()
    outcome = claim_and_wait_for_close(broker.host, broker.port, claimed)
    assert outcome in ("closed", "reset"), f"claimed size {claimed}: connection {outcome}"
    assert broker.alive(), f"broker exited after a claimed size of {claimed}:\n{broker.log_tail()}"
    rss_after = broker.rss_kib()
    assert rss_after - rss_before < RSS_GROWTH_LIMIT_KIB, \
        f"RSS grew from {rss_before} KiB to {rss_after} KiB after a claimed size of {claimed}"
    assert_serves_normal_client(broker, topic_name)


@pytest.mark.sluice_only
@pytest.mark.broker_config({"socket.request.max.bytes": 1048576})
def test_configured_request_limit(broker, topic_name):
    broker.create_topic(topic_name, 1)
    rss_before = broker.rss_kib()
    # Many connections at once, each claiming 2 MiB over a 1 MiB limit.
    for _ in range(20):
        outcome = claim_and_wait_for_close(broker.host, broker.port, 2 * 1048576)
        assert outcome in ("closed", "reset"), f"2 MiB claim over a 1 MiB limit: connection {outcome}"
    assert broker.rss_kib() - rss_before < RSS_GROWTH_LIMIT_KIB
    assert_serves_normal_client(broker, topic_name)
