"""Minimal Kafka wire-protocol helpers for the integration tests (no client library involved).

Only what the tests need to craft exact bytes: Java's murmur2, CRC-32C, zig-zag varints,
RecordBatch v2 building/parsing, request framing (header v1; header v2 for flexible versions),
encoders and a Reader for both the classic and the flexible (compact, tagged-field) types, and the
few requests the tests send raw: ApiVersions v0, Metadata v1, Produce v3-v7, ListOffsets v1,
Fetch v4. Layouts follow ../shared/reference/kafka-protocol.md §3-4.
"""

import socket
import struct
from dataclasses import dataclass, field

# ---------------------------------------------------------------------------------------------
# Hashes


def murmur2(data: bytes) -> int:
    """Java's org.apache.kafka.common.utils.Utils.murmur2, as a signed int32."""
    length = len(data)
    m = 0x5BD1E995
    r = 24
    h = (0x9747B28C ^ length) & 0xFFFFFFFF
    n4 = length // 4
    for i in range(n4):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    rem = length % 4
    tail = 4 * n4
    if rem == 3:
        h ^= data[tail + 2] << 16
    if rem >= 2:
        h ^= data[tail + 1] << 8
    if rem >= 1:
        h ^= data[tail]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def java_partition(key: bytes, num_partitions: int) -> int:
    """Partition Java's default partitioner picks for a non-null key: toPositive(murmur2) % n."""
    return (murmur2(key) & 0x7FFFFFFF) % num_partitions


def _make_crc32c_table():
    poly = 0x82F63B78  # Castagnoli, reflected
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _make_crc32c_table()


def crc32c(data: bytes, crc: int = 0) -> int:
    """CRC-32C (Castagnoli) as used by RecordBatch v2. crc32c(b"123456789") == 0xE3069283."""
    c = crc ^ 0xFFFFFFFF
    table = _CRC32C_TABLE
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


# ---------------------------------------------------------------------------------------------
# Varints (record-level, zig-zag)


def zigzag_varint(value: int) -> bytes:
    v = (value << 1) ^ (value >> 63)
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def read_zigzag_varint(buf: bytes, pos: int):
    shift = 0
    result = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            break
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")
    return (result >> 1) ^ -(result & 1), pos


# ---------------------------------------------------------------------------------------------
# RecordBatch v2

BATCH_HEADER_SIZE = 61  # bytes before the first record


@dataclass
class Record:
    key: "bytes | None"
    value: "bytes | None"
    headers: list = field(default_factory=list)  # [(str, bytes | None)]
    timestamp: int = 0
    offset: int = -1


def encode_record(rec: Record, offset_delta: int, base_timestamp: int) -> bytes:
    body = bytearray(b"\x00")  # attributes
    body += zigzag_varint(rec.timestamp - base_timestamp)
    body += zigzag_varint(offset_delta)
    for blob in (rec.key, rec.value):
        if blob is None:
            body += zigzag_varint(-1)
        else:
            body += zigzag_varint(len(blob)) + blob
    body += zigzag_varint(len(rec.headers))
    for hkey, hval in rec.headers:
        hk = hkey.encode() if isinstance(hkey, str) else hkey
        body += zigzag_varint(len(hk)) + hk
        if hval is None:
            body += zigzag_varint(-1)
        else:
            body += zigzag_varint(len(hval)) + hval
    return zigzag_varint(len(body)) + bytes(body)


def build_batch(records, base_offset=0, attributes=0, producer_id=-1, producer_epoch=-1,
                base_sequence=-1, partition_leader_epoch=-1, corrupt_crc=False) -> bytes:
    """An uncompressed RecordBatch v2 with a correct CRC-32C (or a wrong one if corrupt_crc)."""
    assert records, "a batch holds at least one record"
    base_ts = records[0].timestamp
    max_ts = max(r.timestamp for r in records)
    payload = b"".join(encode_record(r, i, base_ts) for i, r in enumerate(records))
    covered = struct.pack(">hiqqqhii", attributes, len(records) - 1, base_ts, max_ts,
                          producer_id, producer_epoch, base_sequence, len(records)) + payload
    crc = crc32c(covered)
    if corrupt_crc:
        crc ^= 0xDEADBEEF
    batch_length = 4 + 1 + 4 + len(covered)
    return struct.pack(">qiibI", base_offset, batch_length, partition_leader_epoch, 2, crc) + covered


@dataclass
class Batch:
    base_offset: int
    partition_leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    records_count: int
    crc_ok: bool
    raw: bytes
    records: list  # decoded only when uncompressed

    @property
    def compression(self) -> int:
        return self.attributes & 0x7


def parse_batches(data: bytes, check_crc=True, decode_records=True):
    """Parses a record set (concatenated v2 batches); a truncated tail batch is ignored."""
    batches = []
    pos = 0
    while pos + BATCH_HEADER_SIZE <= len(data):
        base_offset, batch_length = struct.unpack_from(">qi", data, pos)
        end = pos + 12 + batch_length
        if end > len(data):
            break
        (ple, magic, crc, attrs, lod, bts, mts, pid, pep, bseq, count) = struct.unpack_from(
            ">ibIhiqqqhii", data, pos + 12)
        if magic != 2:
            raise ValueError(f"magic {magic} at position {pos}: only v2 batches expected")
        raw = data[pos:end]
        crc_ok = crc32c(raw[21:]) == crc if check_crc else True
        records = []
        if decode_records and (attrs & 0x7) == 0:
            rpos = BATCH_HEADER_SIZE
            for _ in range(count):
                length, rpos = read_zigzag_varint(raw, rpos)
                rend = rpos + length
                rpos += 1  # attributes
                ts_delta, rpos = read_zigzag_varint(raw, rpos)
                off_delta, rpos = read_zigzag_varint(raw, rpos)
                blobs = []
                for _ in range(2):
                    n, rpos = read_zigzag_varint(raw, rpos)
                    blobs.append(None if n < 0 else raw[rpos:rpos + n])
                    rpos += max(n, 0)
                hcount, rpos = read_zigzag_varint(raw, rpos)
                headers = []
                for _ in range(hcount):
                    n, rpos = read_zigzag_varint(raw, rpos)
                    hk = raw[rpos:rpos + n].decode()
                    rpos += n
                    n, rpos = read_zigzag_varint(raw, rpos)
                    hv = None if n < 0 else raw[rpos:rpos + n]
                    rpos += max(n, 0)
                    headers.append((hk, hv))
                if rpos != rend:
                    raise ValueError(f"record length mismatch in batch at offset {base_offset}")
                records.append(Record(blobs[0], blobs[1], headers, bts + ts_delta,
                                      base_offset + off_delta))
        batches.append(Batch(base_offset, ple, magic, crc, attrs, lod, bts, mts, pid, pep, bseq,
                             count, crc_ok, raw, records))
        pos = end
    return batches


# ---------------------------------------------------------------------------------------------
# Primitive encoders / a reader


def enc_string(s) -> bytes:
    if s is None:
        return struct.pack(">h", -1)
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">h", len(b)) + b


def enc_bytes(b) -> bytes:
    if b is None:
        return struct.pack(">i", -1)
    return struct.pack(">i", len(b)) + b


def uvarint(n: int) -> bytes:
    """Unsigned varint (flexible versions: compact lengths, tagged-field counts)."""
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def compact_string(s) -> bytes:
    """COMPACT_(NULLABLE_)STRING: length + 1 as an unsigned varint; None is 0."""
    if s is None:
        return uvarint(0)
    raw = s.encode() if isinstance(s, str) else s
    return uvarint(len(raw) + 1) + raw


def compact_array(items, enc) -> bytes:
    """COMPACT_ARRAY: count + 1 as an unsigned varint; None is 0."""
    if items is None:
        return uvarint(0)
    return uvarint(len(items) + 1) + b"".join(enc(i) for i in items)


def enc_array(items, enc) -> bytes:
    if items is None:
        return struct.pack(">i", -1)
    return struct.pack(">i", len(items)) + b"".join(enc(i) for i in items)


class Reader:
    """Reads a response body field by field, classic and flexible-version types alike."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def _unpack(self, fmt):
        vals = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return vals[0]

    def int8(self):
        return self._unpack(">b")

    def int16(self):
        return self._unpack(">h")

    def int32(self):
        return self._unpack(">i")

    def int64(self):
        return self._unpack(">q")

    def _take(self, n):
        """The next n bytes; None for a negative length (null)."""
        if n < 0:
            return None
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def _items(self, n, dec):
        """n items read by dec(reader); None for a negative count (null)."""
        return None if n < 0 else [dec(self) for _ in range(n)]

    def string(self):
        b = self._take(self.int16())
        return None if b is None else b.decode()

    def bytes_(self):
        return self._take(self.int32())

    def array(self, dec):
        return self._items(self.int32(), dec)

    def remaining(self):
        return len(self.data) - self.pos

    # -- flexible versions ------------------------------------------------------------------

    def uvarint(self):
        """Unsigned varint (compact lengths, tagged-field counts)."""
        shift = value = 0
        while True:
            b = self.data[self.pos]
            self.pos += 1
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7

    def compact_bytes(self):
        """COMPACT_(NULLABLE_)BYTES: length + 1 as an unsigned varint; None for null (0)."""
        return self._take(self.uvarint() - 1)

    def compact_string(self):
        """COMPACT_(NULLABLE_)STRING, decoded; None for null."""
        b = self.compact_bytes()
        return None if b is None else b.decode()

    def compact_array(self, dec):
        """COMPACT_(NULLABLE_)ARRAY: count + 1 as an unsigned varint; None for null (0)."""
        return self._items(self.uvarint() - 1, dec)

    def uuid(self):
        """UUID: 16 raw bytes."""
        return self._take(16)

    def tagged_fields(self, skip=False):
        """A flexible structure's tagged fields: asserts there are none, or with skip=True passes
        over any there are."""
        count = self.uvarint()
        if not skip:
            assert count == 0, f"{count} tagged fields at position {self.pos}, none expected"
        for _ in range(count):
            self.uvarint()  # tag
            size = self.uvarint()  # (not `self.pos += self.uvarint()`: that adds to the old pos)
            self.pos += size

    def done(self, skip=False):
        """End of a flexible body: its top-level tagged fields (as tagged_fields), then nothing left."""
        self.tagged_fields(skip)
        assert self.remaining() == 0, f"{self.remaining()} bytes left over at position {self.pos}"


# ---------------------------------------------------------------------------------------------
# Framing and a blocking connection

API_PRODUCE = 0
API_FETCH = 1
API_LIST_OFFSETS = 2
API_METADATA = 3
API_FIND_COORDINATOR = 10
API_API_VERSIONS = 18

CORRUPT_MESSAGE = 2

# Set by conftest for SLUICE_TEST_TARGET=mock: librdkafka 2.0.2's mock broker omits
# LogStartOffset from Produce v5 responses (the spec has it from v5 on).
MOCK_QUIRKS = False


def request_frame(api_key: int, api_version: int, correlation_id: int, body: bytes,
                  client_id="sluice-itest", flexible=False) -> bytes:
    """Size-prefixed request with header v1, or v2 (v1 + empty tagged fields) if flexible."""
    header = struct.pack(">hhi", api_key, api_version, correlation_id) + enc_string(client_id)
    if flexible:
        header += uvarint(0)
    payload = header + body
    return struct.pack(">i", len(payload)) + payload


class ConnectionClosed(Exception):
    pass


class KafkaConnection:
    """One blocking TCP connection speaking raw Kafka frames."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._next_corr = 1

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, api_key, api_version, body, flexible=False) -> int:
        corr = self._next_corr
        self._next_corr += 1
        self.sock.sendall(request_frame(api_key, api_version, corr, body, flexible=flexible))
        return corr

    def _recv_exact(self, n) -> bytes:
        chunks = []
        while n:
            chunk = self.sock.recv(min(n, 1 << 20))
            if not chunk:
                raise ConnectionClosed("connection closed by peer")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def recv_response(self):
        """Returns (correlation_id, body) of the next response (header v0)."""
        (size,) = struct.unpack(">i", self._recv_exact(4))
        payload = self._recv_exact(size)
        (corr,) = struct.unpack_from(">i", payload)
        return corr, payload[4:]

    def request(self, api_key, api_version, body, flexible=False) -> bytes:
        corr = self.send(api_key, api_version, body, flexible)
        got, resp = self.recv_response()
        if got != corr:
            raise AssertionError(f"response correlation id {got}, expected {corr}")
        return resp

    def flexible_request(self, api_key, api_version, body) -> Reader:
        """A request at a flexible version (header v2; `body` ends with its own tagged fields).
        Returns a Reader at the response body, past response header v1's tagged fields (none)."""
        r = Reader(self.request(api_key, api_version, body, flexible=True))
        r.tagged_fields()
        return r

    # -- typed requests ---------------------------------------------------------------------

    def api_versions(self):
        r = Reader(self.request(API_API_VERSIONS, 0, b""))
        err = r.int16()
        keys = r.array(lambda r: (r.int16(), r.int16(), r.int16()))
        return err, {k: (lo, hi) for k, lo, hi in keys}

    def metadata(self, topics=None):
        """Metadata v1: returns {topic: (error, {partition: leader})}."""
        body = enc_array(topics, enc_string)
        r = Reader(self.request(API_METADATA, 1, body))
        r.array(lambda r: (r.int32(), r.string(), r.int32(), r.string()))
        r.int32()  # controller id

        def topic(r):
            err = r.int16()
            name = r.string()
            r.int8()
            parts = r.array(lambda r: (r.int16(), r.int32(), r.int32(),
                                       r.array(lambda r: r.int32()),
                                       r.array(lambda r: r.int32())))
            return name, (err, {p[1]: p[2] for p in parts})

        return dict(r.array(topic))

    def cluster_metadata(self, topics=None):
        """Metadata v7: {"brokers": {id: (host, port)}, "controller": id, "topics": {topic:
        (error, {partition: {"error", "leader", "leader_epoch", "replicas", "isr", "offline"}})}}."""
        body = enc_array(topics, enc_string) + struct.pack(">b", 0)
        r = Reader(self.request(API_METADATA, 7, body))
        r.int32()  # throttle_time_ms
        brokers = {b[0]: (b[1], b[2]) for b in r.array(lambda r: (r.int32(), r.string(), r.int32(), r.string()))}
        r.string()  # cluster id
        controller = r.int32()

        def part(r):
            err, idx, leader, epoch = r.int16(), r.int32(), r.int32(), r.int32()
            replicas, isr, offline = (r.array(lambda r: r.int32()) for _ in range(3))
            return idx, {"error": err, "leader": leader, "leader_epoch": epoch, "replicas": replicas,
                         "isr": isr, "offline": offline}

        def topic(r):
            err, name = r.int16(), r.string()
            r.int8()  # is_internal
            return name, (err, dict(r.array(part)))

        topics_out = dict(r.array(topic))
        return {"brokers": brokers, "controller": controller, "topics": topics_out}

    def produce(self, topic, partition, records_bytes, acks=-1, version=7, timeout_ms=10000):
        """Produce v3-v7 for one partition. Returns (error_code, base_offset); None for acks=0."""
        answers = self.produce_many([(topic, partition, records_bytes)], acks, version, timeout_ms)
        if answers is None:
            return None
        (name, idx, err, base), = answers
        assert name == topic and idx == partition, (name, idx)
        return err, base

    def produce_many(self, writes, acks=-1, version=7, timeout_ms=10000):
        """Produce v3-v7 of several (topic, partition, records_bytes) in one request (a topic's
        partitions grouped under it, topics in first-seen order). Returns the answers in response
        order as (topic, partition, error_code, base_offset); None for acks=0."""
        by_topic = {}
        for topic, partition, records_bytes in writes:
            by_topic.setdefault(topic, []).append((partition, records_bytes))
        body = enc_string(None) + struct.pack(">hi", acks, timeout_ms)
        body += enc_array(list(by_topic.items()), lambda t: enc_string(t[0]) + enc_array(
            t[1], lambda p: struct.pack(">i", p[0]) + enc_bytes(p[1])))
        if acks == 0:
            self.send(API_PRODUCE, version, body)
            return None
        r = Reader(self.request(API_PRODUCE, version, body))

        def part(r):
            idx, err, base = r.int32(), r.int16(), r.int64()
            r.int64()  # log_append_time (v2+)
            if version >= 6 or (version == 5 and not (MOCK_QUIRKS and r.remaining() == 4)):
                r.int64()  # log_start_offset
            return idx, err, base

        topics = r.array(lambda r: (r.string(), r.array(part)))
        r.int32()  # throttle_time_ms
        assert r.remaining() == 0, f"Produce v{version} response: {r.remaining()} bytes left over"
        return [(name, idx, err, base) for name, parts in topics for idx, err, base in parts]

    def find_coordinator(self, key, key_type=0):
        """FindCoordinator for a group (key_type 0, v0) or a transactional id (key_type 1, v1):
        the coordinator's broker id (asserts no error)."""
        if key_type == 0:
            r = Reader(self.request(API_FIND_COORDINATOR, 0, enc_string(key)))
        else:
            r = Reader(self.request(API_FIND_COORDINATOR, 1, enc_string(key) + struct.pack(">b", key_type)))
            r.int32()  # throttle_time_ms
        err = r.int16()
        if key_type != 0:
            r.string()  # error_message (nullable)
        node = r.int32()
        r.string(), r.int32()
        assert err == 0, f"FindCoordinator({key}, key type {key_type}): error {err}"
        return node

    def list_offsets(self, topic, partition, timestamp=-1):
        """ListOffsets v1 (-1 latest, -2 earliest). Returns (error_code, offset)."""
        body = struct.pack(">i", -1) + enc_array([topic], lambda t: enc_string(t) + enc_array(
            [partition], lambda p: struct.pack(">iq", p, timestamp)))
        r = Reader(self.request(API_LIST_OFFSETS, 1, body))
        topics = r.array(lambda r: (r.string(), r.array(
            lambda r: (r.int32(), r.int16(), r.int64(), r.int64()))))
        assert r.remaining() == 0, f"ListOffsets v1 response: {r.remaining()} bytes left over"
        (_, parts), = topics
        (_, err, _, offset), = parts
        return err, offset

    def fetch(self, topic, partition, offset, max_bytes=1 << 20, max_wait_ms=100):
        """Fetch v4 for one partition. Returns (error_code, high_watermark, record_set_bytes)."""
        body = struct.pack(">iiiib", -1, max_wait_ms, 1, max_bytes, 0)
        body += enc_array([topic], lambda t: enc_string(t) + enc_array(
            [partition], lambda p: struct.pack(">iqi", p, offset, max_bytes)))
        r = Reader(self.request(API_FETCH, 4, body))
        r.int32()  # throttle
        topics = r.array(lambda r: (r.string(), r.array(lambda r: (
            r.int32(), r.int16(), r.int64(), r.int64(),
            r.array(lambda r: (r.int64(), r.int64())), r.bytes_()))))
        assert r.remaining() == 0, f"Fetch v4 response: {r.remaining()} bytes left over"
        (_, parts), = topics
        (_, err, hw, _lso, _aborted, records), = parts
        return err, hw, records or b""


def fetch_all_batches(conn: KafkaConnection, topic, partition, start=0, end=None):
    """Fetches raw batches of one partition from `start` up to the high watermark (or `end`)."""
    batches = []
    offset = start
    while True:
        err, hw, data = conn.fetch(topic, partition, offset)
        if err:
            raise AssertionError(f"fetch {topic}-{partition}@{offset}: error {err}")
        stop = hw if end is None else min(end, hw)
        if offset >= stop:
            return batches
        got = [b for b in parse_batches(data, decode_records=False)
               if b.base_offset + b.last_offset_delta >= offset]
        if not got:
            raise AssertionError(f"fetch {topic}-{partition}@{offset}: no complete batch "
                                 f"below high watermark {hw}")
        batches.extend(got)
        offset = got[-1].base_offset + got[-1].last_offset_delta + 1
