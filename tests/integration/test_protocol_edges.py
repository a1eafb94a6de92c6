"""Protocol edge cases a real client depends on: the ApiVersions rules of KIP-511, closing the
connection on an unknown API key, and Produce v0-v2 legacy message sets up-converted to
RecordBatch v2 (librdkafka <= 2.11 compresses only when Produce v0 is advertised)."""

import struct
import zlib

import pytest

from kafkawire import (API_API_VERSIONS, API_PRODUCE, ConnectionClosed, KafkaConnection, Reader,
                       enc_array, enc_bytes, enc_string, parse_batches)

pytestmark = pytest.mark.sluice_only

UNSUPPORTED_VERSION = 35
INVALID_REQUEST = 42


def test_api_versions_v0_lists_produce_from_v0_and_fetch_4_to_12(broker):
    with KafkaConnection(broker.host, broker.port) as conn:
        err, keys = conn.api_versions()
    assert err == 0
    assert keys[0] == (0, 7)       # Produce
    assert keys[1] == (4, 12)      # Fetch
    assert keys[18] == (0, 3)      # ApiVersions
    assert keys[10] == (0, 4)      # FindCoordinator


def test_unsupported_api_versions_version_gets_v0_error_with_our_ranges(broker):
    with KafkaConnection(broker.host, broker.port) as conn:
        # v4 does not exist yet: header v2 (flexible), a body we must not parse.
        header = struct.pack(">hhi", API_API_VERSIONS, 4, 77) + enc_string("edge") + b"\x00"
        payload = header + b"\x05junk\x00"
        conn.sock.sendall(struct.pack(">i", len(payload)) + payload)
        corr, body = conn.recv_response()
        assert corr == 77
        r = Reader(body)  # v0 layout, response header v0
        assert r.int16() == UNSUPPORTED_VERSION
        keys = {k: (lo, hi) for k, lo, hi in r.array(lambda r: (r.int16(), r.int16(), r.int16()))}
        assert keys[18] == (0, 3)
        assert r.remaining() == 0


def test_api_versions_v3_rejects_invalid_client_software_name(broker):
    with KafkaConnection(broker.host, broker.port) as conn:
        header = struct.pack(">hhi", API_API_VERSIONS, 3, 5) + enc_string("edge") + b"\x00"
        body = b"\x05-bad" + b"\x041.0" + b"\x00"  # compact strings "-bad", "1.0", no tags
        payload = header + body
        conn.sock.sendall(struct.pack(">i", len(payload)) + payload)
        corr, resp = conn.recv_response()
        assert corr == 5
        assert struct.unpack_from(">h", resp)[0] == INVALID_REQUEST


def test_unknown_api_key_closes_connection(broker):
    with KafkaConnection(broker.host, broker.port) as conn:
        conn.send(4, 0, b"")  # LeaderAndIsr: inter-broker, not served to clients
        with pytest.raises((ConnectionClosed, ConnectionResetError)):
            conn.recv_response()
    with KafkaConnection(broker.host, broker.port) as conn:  # the broker is still up
        assert conn.api_versions()[0] == 0


def legacy_message(magic, key, value, timestamp=None, attributes=0):
    body = struct.pack(">bb", magic, attributes)
    if magic == 1:
        body += struct.pack(">q", timestamp)
    body += (struct.pack(">i", -1) if key is None else struct.pack(">i", len(key)) + key)
    body += (struct.pack(">i", -1) if value is None else struct.pack(">i", len(value)) + value)
    return struct.pack(">I", zlib.crc32(body)) + body


def message_set(messages):
    out = b""
    for i, m in enumerate(messages):
        out += struct.pack(">qi", i, len(m)) + m
    return out


def produce_legacy(conn, topic, records, version):
    body = struct.pack(">hi", -1, 10000)
    body += enc_array([topic], lambda t: enc_string(t) + enc_array(
        [0], lambda p: struct.pack(">i", p) + enc_bytes(records)))
    r = Reader(conn.request(API_PRODUCE, version, body))
    (name, parts), = r.array(lambda r: (r.string(), r.array(lambda r: (r.int32(), r.int16(), r.int64()) + (
        (r.int64(),) if version >= 2 else ()))))
    if version >= 1:
        r.int32()  # throttle
    assert r.remaining() == 0
    return parts[0][1], parts[0][2]


@pytest.mark.parametrize("version,magic", [(0, 0), (1, 0), (2, 1)])
def test_legacy_produce_is_upconverted(broker, topic_name, version, magic):
    broker.create_topic(topic_name, 1)
    ts = 1_700_000_000_000
    msgs = [legacy_message(magic, b"k%d" % i, b"v%d" % i, ts + i) for i in range(3)]
    msgs.append(legacy_message(magic, None, None, ts + 3))
    with KafkaConnection(broker.host, broker.port) as conn:
        assert produce_legacy(conn, topic_name, message_set(msgs), version) == (0, 0)
        err, hw, data = conn.fetch(topic_name, 0, 0)
    assert (err, hw) == (0, 4)
    (batch,) = parse_batches(data)
    assert batch.magic == 2 and batch.base_offset == 0
    got = [(r.key, r.value, r.timestamp) for r in batch.records]
    want_ts = [ts + i if magic == 1 else -1 for i in range(4)]
    assert got == [(b"k0", b"v0", want_ts[0]), (b"k1", b"v1", want_ts[1]), (b"k2", b"v2", want_ts[2]),
                   (None, None, want_ts[3])]


def test_legacy_produce_with_bad_crc_is_corrupt_and_not_appended(broker, topic_name):
    broker.create_topic(topic_name, 1)
    m = bytearray(legacy_message(1, b"k", b"v", 1))
    m[-1] ^= 0xFF
    with KafkaConnection(broker.host, broker.port) as conn:
        err, _ = produce_legacy(conn, topic_name, message_set([bytes(m)]), 2)
        assert err == 2  # CORRUPT_MESSAGE
        assert conn.list_offsets(topic_name, 0, -1) == (0, 0)
