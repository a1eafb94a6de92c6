"""`sluice produce` and `sluice consume` against a real broker: lines come back byte-exact with
keys, headers and partitions (Java's murmur2 placement), from the beginning, an offset, a
timestamp or the end; every error exits non-zero naming the problem."""

import subprocess
import time

import pytest

from cli import fails, json_lines, ok, sluice_bin
from kafkawire import java_partition


@pytest.fixture
def topic3(broker, topic_name):
    broker.create_topic(topic_name, 3)
    return topic_name


def consume_json(broker, topic, *args):
    return json_lines(ok("consume", topic, "-b", broker.bootstrap, "-f", "json", *args))


def test_keys_headers_and_java_partitioning(broker, topic3):
    keys = [f"user-{i}" for i in range(60)]
    lines = [f"{k}:value {i}: with colon, tab\tand ünïcode" for i, k in enumerate(keys)]
    ok("produce", topic3, "-b", broker.bootstrap, "-k", ":", "-H", "source=cli", "-H", "empty=",
       input="\n".join(lines) + "\n")
    records = consume_json(broker, topic3, "--from-beginning", "-n", len(lines))
    assert len(records) == len(lines)
    by_key = {r["key"]: r for r in records}
    assert sorted(by_key) == sorted(keys)
    for i, k in enumerate(keys):
        r = by_key[k]
        assert r["value"] == f"value {i}: with colon, tab\tand ünïcode"
        assert r["partition"] == java_partition(k.encode(), 3), k
        assert r["headers"] == [{"key": "source", "value": "cli"}, {"key": "empty", "value": ""}]
        assert r["topic"] == topic3
        assert r["timestamp_type"] == "create" and abs(r["timestamp"] - time.time() * 1000) < 600_000
    # Offsets within each partition are 0..n-1 in production order.
    for p in range(3):
        in_p = [r for r in records if r["partition"] == p]
        assert sorted(r["offset"] for r in in_p) == list(range(len(in_p)))
        order = [int(r["value"].split()[1].rstrip(":")) for r in sorted(in_p, key=lambda r: r["offset"])]
        assert order == sorted(order)


def test_values_byte_exact(broker, topic_name):
    broker.create_topic(topic_name, 1)
    lines = [b"plain", b"", b"  spaces  ", b"tab\there", b"\xff\xfe binary \x00 nul", "ü€𝄞".encode(),
             b"x" * 100_000, b"last line without newline"]
    data = b"\n".join(lines)
    ok("produce", topic_name, "-b", broker.bootstrap, input=data)
    r = subprocess.run([sluice_bin(), "consume", topic_name, "-b", broker.bootstrap,
                        "--from-beginning", "-n", str(len(lines))], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == data + b"\n"
    # A template with every directive.
    out = ok("consume", topic_name, "-b", broker.bootstrap, "--from-beginning", "-n", "2",
             "-f", "%t|%p|%o|%K|%V|%k|%v\\n")
    assert out.splitlines() == [f"{topic_name}|0|0|-1|5||plain", f"{topic_name}|0|1|-1|0||"]


def test_explicit_partition_and_offset(broker, topic3):
    ok("produce", topic3, "-b", broker.bootstrap, "-p", "2", input="".join(f"m{i}\n" for i in range(10)))
    records = consume_json(broker, topic3, "--from-beginning", "-n", "10")
    assert {r["partition"] for r in records} == {2}
    assert [r["value"] for r in records] == [f"m{i}" for i in range(10)]
    assert [r["key"] for r in records] == [None] * 10
    records = consume_json(broker, topic3, "-p", "2", "-o", "7", "-n", "3")
    assert [(r["offset"], r["value"]) for r in records] == [(7, "m7"), (8, "m8"), (9, "m9")]
    records = consume_json(broker, topic3, "-p", "2", "-o", "beginning", "-n", "1")
    assert records[0]["offset"] == 0
    # -e: stops at the end of every assigned partition (here only partition 2 has data).
    records = consume_json(broker, topic3, "--from-beginning", "-e")
    assert len(records) == 10
    assert consume_json(broker, topic3, "-p", "0", "--from-beginning", "-e") == []


def test_from_timestamp(broker, topic_name):
    broker.create_topic(topic_name, 1)
    ok("produce", topic_name, "-b", broker.bootstrap, input="old1\nold2\n")
    time.sleep(0.05)
    cut = int(time.time() * 1000)
    time.sleep(0.05)
    ok("produce", topic_name, "-b", broker.bootstrap, input="new1\nnew2\n")
    records = consume_json(broker, topic_name, "--from-timestamp", cut, "-e")
    assert [(r["offset"], r["value"]) for r in records] == [(2, "new1"), (3, "new2")]
    assert all(r["timestamp"] >= cut for r in records)
    # A timestamp after every record starts at the end: nothing to read.
    future = int(time.time() * 1000) + 3_600_000
    assert consume_json(broker, topic_name, "--from-timestamp", future, "-e") == []


def test_default_start_is_the_end(broker, topic_name):
    broker.create_topic(topic_name, 1)
    ok("produce", topic_name, "-b", broker.bootstrap, input="before\n")
    proc = subprocess.Popen([sluice_bin(), "consume", topic_name, "-b", broker.bootstrap, "-n", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Give the consumer time to assign and look up the end offset, then write one record.
        time.sleep(3)
        ok("produce", topic_name, "-b", broker.bootstrap, input="after\n")
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert out == b"after\n"


def test_acks_and_compression(broker, topic_name):
    broker.create_topic(topic_name, 1)
    expected = []
    for acks, codec in (("0", "none"), ("1", "gzip"), ("all", "snappy"), ("-1", "lz4"), ("1", "zstd")):
        lines = [f"{codec}-{acks}-{i}-" + "compressible " * 20 for i in range(50)]
        expected += lines
        ok("produce", topic_name, "-b", broker.bootstrap, "-a", acks, "-z", codec, input="\n".join(lines))
    # acks=0 is fire-and-forget: wait until the broker has every record before reading back.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        from kafkawire import KafkaConnection
        with KafkaConnection(broker.host, broker.port) as c:
            if c.list_offsets(topic_name, 0, -1)[1] >= len(expected):
                break
        time.sleep(0.1)
    out = ok("consume", topic_name, "-b", broker.bootstrap, "--from-beginning", "-n", len(expected))
    assert sorted(out.splitlines()) == sorted(expected)


def test_produce_errors(broker, topic_name):
    broker.create_topic(topic_name, 1)
    err = fails("produce", "no-such-topic", "-b", broker.bootstrap, input="x\n")
    assert "unknown topic 'no-such-topic'" in err
    listed = json_lines(ok("topic", "list", "--json", "-b", broker.bootstrap))[0]
    assert "no-such-topic" not in [t["name"] for t in listed]  # not auto-created
    err = fails("produce", topic_name, "-p", "7", "-b", broker.bootstrap, input="x\n")
    assert f"partition 7 does not exist: topic '{topic_name}' has 1 partition(s)" in err
    err = fails("produce", topic_name, "-a", "2", "-b", broker.bootstrap, input="x\n", code=2)
    assert "--acks" in err
    err = fails("produce", topic_name, "-z", "brotli", "-b", broker.bootstrap, input="x\n", code=2)
    assert "--compression" in err
    err = fails("produce", topic_name, "-H", "nokey", "-b", broker.bootstrap, input="x\n", code=2)
    assert "--header expects key=value" in err
    err = fails("produce", topic_name, "-X", "no.such.property=1", "-b", broker.bootstrap, input="x\n", code=2)
    assert "no.such.property" in err
    # A record larger than the broker's message.max.bytes (1 MiB by default).
    err = fails("produce", topic_name, "--max-message-bytes", "5000000", "-b", broker.bootstrap,
                input="y" * 2_000_000 + "\n")
    assert "not delivered" in err and "MSG_SIZE_TOO_LARGE" in err


def test_consume_errors(broker, topic_name):
    broker.create_topic(topic_name, 2)
    err = fails("consume", "no-such-topic", "-b", broker.bootstrap, "-n", "1")
    assert "unknown topic 'no-such-topic'" in err
    err = fails("consume", topic_name, "-p", "5", "-b", broker.bootstrap, "-n", "1")
    assert f"partition 5 does not exist: topic '{topic_name}' has 2 partition(s)" in err
    err = fails("consume", topic_name, "--from-beginning", "-o", "3", "-b", broker.bootstrap, code=2)
    assert "choose one of --from-beginning, --offset and --from-timestamp" in err
    err = fails("consume", topic_name, "-o", "soon", "-b", broker.bootstrap, code=2)
    assert "--offset expects beginning, end or a non-negative offset, got 'soon'" in err
    err = fails("consume", topic_name, "-f", "%q", "-b", broker.bootstrap, code=2)
    assert "unknown directive '%q'" in err
    err = fails("consume", topic_name, "-g", "grp", "-p", "0", "-b", broker.bootstrap, code=2)
    assert "assignment mode" in err
    ok("produce", topic_name, "-p", "0", "-b", broker.bootstrap, input="a\nb\n")
    err = fails("consume", topic_name, "--from-beginning", "-n", "5", "--idle-timeout-ms", "1500",
                "-b", broker.bootstrap)
    assert "received 2 of 5 record(s) before --idle-timeout-ms 1500 passed" in err
