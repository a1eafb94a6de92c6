"""A client that goes away in the middle of a response costs only its own connection.

The zero-copy Fetch path writes with sendfile(2), which cannot be told MSG_NOSIGNAL: unless the
broker ignores SIGPIPE, a consumer that closes its socket while a large fetch response is being
written kills the whole broker (found by the CLI's consumers)."""

import socket
import struct
import time

import pytest

from kafkawire import API_FETCH, KafkaConnection, Record, build_batch, enc_array, enc_string, request_frame

pytestmark = pytest.mark.sluice_only


def fetch_v4_body(topic, partition, offset, max_bytes):
    body = struct.pack(">iiiib", -1, 0, 1, max_bytes, 0)
    return body + enc_array([topic], lambda t: enc_string(t) + enc_array(
        [partition], lambda p: struct.pack(">iqi", p, offset, max_bytes)))


def test_consumer_closing_mid_fetch_response_leaves_broker_serving(broker, topic_name):
    broker.create_topic(topic_name, 1)
    value = bytes(range(256)) * 3500  # ~900 KB per record, one record per batch
    with KafkaConnection(broker.host, broker.port) as conn:
        for _ in range(8):
            err, _ = conn.produce(topic_name, 0, build_batch([Record(key=None, value=value)]))
            assert err == 0
    request = request_frame(API_FETCH, 4, 1, fetch_v4_body(topic_name, 0, 0, 64 << 20))
    for _ in range(10):
        s = socket.create_connection((broker.host, broker.port), timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(request)
        assert len(s.recv(16)) > 0  # the ~7 MB response has started and cannot fit in the buffers
        # Close with a reset while the broker is still writing.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
        time.sleep(0.05)
        assert broker.alive(), f"broker died when a client closed mid-response; log:\n{broker.log_tail()}"
    with KafkaConnection(broker.host, broker.port) as conn:
        err, hw, records = conn.fetch(topic_name, 0, 7, max_bytes=2 << 20)
        assert (err, hw) == (0, 8)
        assert value in records
