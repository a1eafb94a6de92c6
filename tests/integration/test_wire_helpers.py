"""Self-checks of the hand-written wire helpers against published vectors (no broker needed)."""

import pytest

from kafkawire import (Record, build_batch, crc32c, java_partition, murmur2, parse_batches,
                       read_zigzag_varint, zigzag_varint)


@pytest.mark.parametrize("key,expected", [
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107),
    (b"kafka", -798503068),
    (b"", 275646681),
    (b"giberish123456789", 0x8F552B0C - (1 << 32)),
    (b"1234", 0x9FC97B14 - (1 << 32)),
    (b"234", 0xE7C009CA - (1 << 32)),
    (b"34", 0x873930DA - (1 << 32)),
    (b"4", 0x5A4B5CA1),
])
def test_murmur2_matches_java(key, expected):
    assert murmur2(key) == expected


def test_java_partition_examples():
    # From the protocol reference: 3 partitions, "kafka" -> 1, "21" -> 0.
    assert java_partition(b"kafka", 3) == 1
    assert java_partition(b"21", 3) == 0


def test_crc32c_check_value():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0


def test_kafka_python_murmur2_agrees():
    # An independent implementation (kafka-python's Java-compatible one) on many keys.
    from kafka.partitioner.default import murmur2 as kp_murmur2
    for i in range(2000):
        key = f"key-{i}-{'x' * (i % 7)}".encode()
        assert murmur2(key) & 0x7FFFFFFF == kp_murmur2(key) & 0x7FFFFFFF, key


@pytest.mark.parametrize("v", [0, 1, -1, 63, -64, 64, 300, -300, 2**31 - 1, -2**31, 2**62, -2**63])
def test_zigzag_varint_roundtrip(v):
    enc = zigzag_varint(v)
    dec, pos = read_zigzag_varint(enc, 0)
    assert (dec, pos) == (v, len(enc))


def test_batch_build_parse_roundtrip():
    recs = [Record(b"k1", b"v1", [("h", b"x"), ("n", None)], 1_700_000_000_000),
            Record(None, b"", [], 1_700_000_000_005),
            Record(b"k3", None, [("e", b"")], 1_699_999_999_999)]
    raw = build_batch(recs, base_offset=42)
    (batch,) = parse_batches(raw)
    assert batch.crc_ok and batch.magic == 2 and batch.base_offset == 42
    assert batch.records_count == 3 and batch.last_offset_delta == 2
    assert batch.max_timestamp == 1_700_000_000_005
    assert [(r.key, r.value, r.headers, r.timestamp, r.offset) for r in batch.records] == [
        (b"k1", b"v1", [("h", b"x"), ("n", None)], 1_700_000_000_000, 42),
        (None, b"", [], 1_700_000_000_005, 43),
        (b"k3", None, [("e", b"")], 1_699_999_999_999, 44)]
    (bad,) = parse_batches(build_batch(recs, corrupt_crc=True))
    assert not bad.crc_ok


def _consumed_perfectly(records, partitions):
    from collections import defaultdict
    nxt = defaultdict(int)
    out = []
    for r in records:
        p = java_partition(r.key, partitions)
        out.append((p, Record(r.key, r.value, list(r.headers), r.timestamp, nxt[p])))
        nxt[p] += 1
    return out


def test_verify_roundtrip_accepts_exact_and_rejects_damage():
    from roundtrip import make_dataset, verify_roundtrip
    records = make_dataset("selftest", n=300)
    good = _consumed_perfectly(records, 4)
    verify_roundtrip(records, good, 4)

    def damaged(fn):
        c = [(p, Record(r.key, r.value, list(r.headers), r.timestamp, r.offset)) for p, r in good]
        fn(c)
        with pytest.raises(AssertionError):
            verify_roundtrip(records, c, 4)

    damaged(lambda c: c.pop(17))                                        # a lost record
    damaged(lambda c: c.append(c[5]))                                   # a duplicate
    damaged(lambda c: setattr(c[3][1], "value", c[3][1].value + b"x"))  # a changed value
    damaged(lambda c: setattr(c[3][1], "timestamp", 1))                 # a changed timestamp
    damaged(lambda c: c[8][1].headers.reverse())                        # header order
    damaged(lambda c: setattr(c[9][1], "offset", c[9][1].offset + 1000))  # an offset gap
    damaged(lambda c: c.__setitem__(0, ((c[0][0] + 1) % 4, c[0][1])))  # wrong partition

    def swap_order(c):  # two records of one partition in the wrong order
        p = c[0][0]
        i, j = [k for k, (q, _) in enumerate(c) if q == p][:2]
        c[i][1].offset, c[j][1].offset = c[j][1].offset, c[i][1].offset
    damaged(swap_order)
