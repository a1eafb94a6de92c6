"""`sluice group list|describe|delete|reset-offsets` and `sluice consume -g`.

These drive the broker's consumer-group APIs; the last test checks, against librdkafka's mock
cluster (which lacks ListGroups and DescribeGroups), that a broker without them is named rather
than waited on forever."""

import signal
import subprocess
import threading
import time

import pytest

from cli import fails, ok, ok_json, run, sluice_bin
from kafkawire import KafkaConnection, java_partition

GROUP_APIS = {8: "OffsetCommit", 9: "OffsetFetch", 10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat",
              14: "SyncGroup", 15: "DescribeGroups", 16: "ListGroups"}
DELETE_GROUPS = {42: "DeleteGroups"}


def require_apis(broker, apis):
    with KafkaConnection(broker.host, broker.port) as c:
        err, versions = c.api_versions()
    missing = [name for key, name in sorted(apis.items()) if key not in versions]
    assert not missing, f"broker does not advertise {', '.join(missing)} in ApiVersions"


def describe(broker, group):
    docs = ok_json("group", "describe", group, "--json", "-b", broker.bootstrap)
    assert len(docs) == 1 and docs[0]["group"] == group
    return docs[0]


def describe_once_known(broker, group):
    """describe(), or None while the group does not exist yet (its member is still joining)."""
    r = run("group", "describe", group, "--json", "-b", broker.bootstrap)
    if r.returncode == 1 and b"unknown group" in r.stderr:
        return None
    return describe(broker, group)


def offsets(doc):
    return {(o["topic"], o["partition"]): (o["current_offset"], o["log_end_offset"], o["lag"])
            for o in doc["offsets"]}


def wait_for(predicate, what, timeout=30):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def filled(broker, topic_name):
    """A 3-partition topic with 30 keyed records; returns (topic, {partition: count})."""
    require_apis(broker, GROUP_APIS)
    broker.create_topic(topic_name, 3)
    keys = [f"key-{i}" for i in range(30)]
    ok("produce", topic_name, "-k", "=", "-b", broker.bootstrap, input="".join(f"{k}=v\n" for k in keys))
    counts = {p: 0 for p in range(3)}
    for k in keys:
        counts[java_partition(k.encode(), 3)] += 1
    return topic_name, counts


def test_consume_commits_and_describe_shows_lag(broker, filled):
    topic, counts = filled
    group = topic + "-g"
    out = ok("consume", topic, "-g", group, "--from-beginning", "-n", "30", "-b", broker.bootstrap)
    assert len(out.splitlines()) == 30
    listed = ok_json("group", "list", "--json", "-b", broker.bootstrap)
    assert {"group": group, "state": "Empty", "simple": False} in listed
    assert [group, "Empty", "consumer"] in [l.split() for l in ok("group", "list", "-b", broker.bootstrap).splitlines()]
    doc = describe(broker, group)
    assert doc["state"] == "Empty" and doc["members"] == []
    assert offsets(doc) == {(topic, p): (n, n, 0) for p, n in counts.items()}
    # New records show up as lag.
    ok("produce", topic, "-p", "1", "-b", broker.bootstrap, input="x\ny\nz\n")
    doc = describe(broker, group)
    assert offsets(doc)[(topic, 1)] == (counts[1], counts[1] + 3, 3)
    # The group continues where it committed.
    out = ok("consume", topic, "-g", group, "-n", "3", "-f", "%p %o %v\\n", "-b", broker.bootstrap)
    assert out.splitlines() == [f"1 {counts[1] + i} {v}" for i, v in enumerate("xyz")]
    text = ok("group", "describe", group, "-b", broker.bootstrap)
    rows = [l.split() for l in text.splitlines()]
    assert [topic, "1", str(counts[1] + 3), str(counts[1] + 3), "0", "-", "-", "-"] in rows


def test_reset_offsets(broker, filled):
    topic, counts = filled
    group = topic + "-g"
    ok("consume", topic, "-g", group, "--from-beginning", "-n", "30", "-b", broker.bootstrap)
    before = offsets(describe(broker, group))
    # Dry run (the default): shows the plan, changes nothing.
    text = ok("group", "reset-offsets", group, "-t", topic, "--to-earliest", "-b", broker.bootstrap)
    assert "dry run" in text
    assert [topic, "0", str(counts[0]), "0"] in [l.split() for l in text.splitlines()]
    assert offsets(describe(broker, group)) == before
    doc = ok_json("group", "reset-offsets", group, "-t", topic, "--to-earliest", "--execute", "--json",
                  "-b", broker.bootstrap)
    assert doc["executed"] is True
    assert [(o["partition"], o["new_offset"]) for o in doc["offsets"]] == [(0, 0), (1, 0), (2, 0)]
    assert offsets(describe(broker, group)) == {(topic, p): (0, n, n) for p, n in counts.items()}
    ok("group", "reset-offsets", group, "-t", f"{topic}:1", "--to-offset", "2", "--execute", "-b", broker.bootstrap)
    assert offsets(describe(broker, group))[(topic, 1)][0] == 2
    ok("group", "reset-offsets", group, "-t", f"{topic}:2", "--to-offset", "999999", "--execute", "-b", broker.bootstrap)
    assert offsets(describe(broker, group))[(topic, 2)][0] == counts[2]  # clamped to the log end
    ok("group", "reset-offsets", group, "--all-topics", "--to-latest", "--execute", "-b", broker.bootstrap)
    assert offsets(describe(broker, group)) == {(topic, p): (n, n, 0) for p, n in counts.items()}
    future = int(time.time() * 1000) + 3_600_000
    ok("group", "reset-offsets", group, "-t", topic, "--to-timestamp", "0", "--execute", "-b", broker.bootstrap)
    assert offsets(describe(broker, group)) == {(topic, p): (0, n, n) for p, n in counts.items()}
    ok("group", "reset-offsets", group, "-t", topic, "--to-timestamp", future, "--execute", "-b", broker.bootstrap)
    assert offsets(describe(broker, group)) == {(topic, p): (n, n, 0) for p, n in counts.items()}
    # Bad arguments.
    err = fails("group", "reset-offsets", group, "-t", topic, "-b", broker.bootstrap, code=2)
    assert "choose exactly one of --to-earliest" in err
    err = fails("group", "reset-offsets", group, "--to-latest", "-b", broker.bootstrap, code=2)
    assert "give --topic" in err
    err = fails("group", "reset-offsets", group, "-t", "no-such-topic", "--to-latest", "-b", broker.bootstrap)
    assert "unknown topic 'no-such-topic'" in err
    err = fails("group", "reset-offsets", group, "-t", f"{topic}:7", "--to-latest", "-b", broker.bootstrap)
    assert f"partition 7 does not exist: topic '{topic}' has 3 partition(s)" in err
    err = fails("group", "reset-offsets", group, "-t", f"{topic}:x", "--to-latest", "-b", broker.bootstrap, code=2)
    assert "--topic expects TOPIC or TOPIC:P[,P...]" in err


def test_active_member_blocks_reset_and_delete(broker, filled):
    topic, counts = filled
    group = topic + "-g"
    proc = subprocess.Popen([sluice_bin(), "consume", topic, "-g", group, "--from-beginning",
                             "-b", broker.bootstrap], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    lines = []

    def read_records():
        for line in proc.stdout:
            lines.append(line)

    reader = threading.Thread(target=read_records, daemon=True)
    reader.start()
    try:
        doc = wait_for(lambda: (lambda d: d if d and d["state"] == "Stable" and d["members"] else None)(
            describe_once_known(broker, group)), "a stable group with one member")
        (member,) = doc["members"]
        assert sorted((a["topic"], a["partition"]) for a in member["assignment"]) == [(topic, p) for p in range(3)]
        assert member["client_id"] == "rdkafka"
        text = ok("group", "describe", group, "-b", broker.bootstrap)
        assert member["consumer_id"] in text
        err = fails("group", "reset-offsets", group, "-t", topic, "--to-earliest", "--execute", "-b", broker.bootstrap)
        assert "has 1 active member(s)" in err
        require_apis(broker, DELETE_GROUPS)
        err = fails("group", "delete", group, "-b", broker.bootstrap)
        assert f"group '{group}' has active members (NON_EMPTY_GROUP)" in err
    finally:
        # The member may still be fetching: let it print everything before it is stopped.
        deadline = time.monotonic() + 30
        while len(lines) < 30 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
        reader.join(10)
    assert len(lines) == 30


def test_delete_and_unknown_group(broker, filled):
    require_apis(broker, DELETE_GROUPS)
    topic, counts = filled
    group = topic + "-g"
    ok("consume", topic, "-g", group, "--from-beginning", "-n", "30", "-b", broker.bootstrap)
    assert ok("group", "delete", group, "-b", broker.bootstrap) == f"deleted group {group}\n"
    listed = ok_json("group", "list", "--json", "-b", broker.bootstrap)
    assert group not in [g["group"] for g in listed]
    err = fails("group", "describe", group, "-b", broker.bootstrap)
    assert f"unknown group '{group}'" in err
    err = fails("group", "delete", group, "-b", broker.bootstrap)
    assert f"unknown group '{group}'" in err


def test_missing_group_apis_are_named(mock_cluster, topic_name):
    """On a broker without the consumer-group APIs every group command fails at once, naming them
    (librdkafka alone would retry forever or deadlock). librdkafka's mock cluster lacks ListGroups
    and DescribeGroups."""
    broker = mock_cluster
    with KafkaConnection(broker.host, broker.port) as c:
        err, versions = c.api_versions()
    assert 16 not in versions and 15 not in versions
    broker.create_topic(topic_name, 1)
    for args, api in ((["group", "list"], "ListGroups"), (["group", "describe", "g"], "DescribeGroups"),
                      (["group", "reset-offsets", "g", "-t", topic_name, "--to-earliest"], "DescribeGroups"),
                      (["consume", topic_name, "-g", "g", "-n", "1"], "JoinGroup")):
        if not any(k for k, name in GROUP_APIS.items() if name == api and k not in versions):
            continue
        start = time.monotonic()
        err = fails(*args, "-b", broker.bootstrap, timeout=30)
        assert f"does not support" in err and api in err, err
        assert time.monotonic() - start < 10
