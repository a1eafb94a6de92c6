"""`sluice topic ...` and `sluice cluster info` against a real broker: created topics are
visible with the right partitions, replicas, ISR, offsets and configs; every error exits
non-zero with a message naming the problem."""

import pytest

from cli import fails, json_lines, ok, ok_json, run
from conftest import free_port

pytestmark = pytest.mark.sluice_only  # the mock cluster has no admin APIs


def describe(broker, topic):
    docs = ok_json("topic", "describe", topic, "-b", broker.bootstrap, "--json", "-a")
    assert len(docs) == 1
    return docs[0]


def test_create_describe_list_delete(broker, topic_name):
    out = ok("topic", "create", topic_name, "-p", "3", "-r", "1", "-c", "retention.ms=123456",
             "-c", "segment.bytes=1048576", "-b", broker.bootstrap)
    assert out == f"created topic {topic_name}\n"
    d = describe(broker, topic_name)
    assert d["name"] == topic_name
    assert d["replication_factor"] == 1
    assert [p["partition"] for p in d["partitions"]] == [0, 1, 2]
    for p in d["partitions"]:
        assert p["leader"] >= 0
        assert p["replicas"] == [p["leader"]]
        assert p["isr"] == [p["leader"]]
        assert (p["log_start_offset"], p["high_watermark"]) == (0, 0)
    assert d["configs"]["retention.ms"] == {"value": "123456", "source": "DYNAMIC_TOPIC_CONFIG",
                                            "default": False}
    assert d["configs"]["segment.bytes"]["value"] == "1048576"
    assert d["configs"]["cleanup.policy"]["value"] == "delete"  # -a lists defaults too

    # Text output: a partition table and the explicitly set configs.
    text = ok("topic", "describe", topic_name, "-b", broker.bootstrap)
    assert f"TOPIC {topic_name}: 3 partition(s), replication factor 1" in text
    rows = [line.split() for line in text.splitlines()]
    assert ["PARTITION", "LEADER", "REPLICAS", "ISR", "LOG-START-OFFSET", "HIGH-WATERMARK"] in rows
    assert ["retention.ms", "123456", "DYNAMIC_TOPIC_CONFIG"] in rows
    assert not any(r and r[0] == "cleanup.policy" for r in rows)

    listed = ok_json("topic", "list", "-b", broker.bootstrap, "--json")
    assert {"name": topic_name, "partitions": 3, "replicas": 1} in listed
    text = ok("topic", "list", "-b", broker.bootstrap)
    assert [topic_name, "3", "1"] in [line.split() for line in text.splitlines()]

    assert ok("topic", "delete", topic_name, "-b", broker.bootstrap) == f"deleted topic {topic_name}\n"
    listed = ok_json("topic", "list", "-b", broker.bootstrap, "--json")
    assert topic_name not in [t["name"] for t in listed]
    err = fails("topic", "delete", topic_name, "-b", broker.bootstrap)
    assert f"unknown topic '{topic_name}'" in err


def test_describe_shows_offsets(broker, topic_name):
    ok("topic", "create", topic_name, "-p", "2", "-b", broker.bootstrap)
    ok("produce", topic_name, "-p", "1", "-b", broker.bootstrap, input="a\nb\nc\n")
    d = describe(broker, topic_name)
    hw = {p["partition"]: (p["log_start_offset"], p["high_watermark"]) for p in d["partitions"]}
    assert hw == {0: (0, 0), 1: (0, 3)}


def test_create_defaults_from_broker(broker, topic_name):
    ok("topic", "create", topic_name, "-b", broker.bootstrap)
    d = describe(broker, topic_name)
    assert len(d["partitions"]) == 1  # num.partitions
    assert d["replication_factor"] == 1


def test_create_errors(broker, topic_name):
    ok("topic", "create", topic_name, "-b", broker.bootstrap)
    err = fails("topic", "create", topic_name, "-b", broker.bootstrap)
    assert f"topic '{topic_name}'" in err and "TOPIC_ALREADY_EXISTS" in err

    err = fails("topic", "create", topic_name + "-r3", "-r", "3", "-b", broker.bootstrap)
    assert "INVALID_REPLICATION_FACTOR" in err
    assert "the cluster has 1 broker(s), so --replicas must be at most 1" in err

    err = fails("topic", "create", topic_name + "-cfg", "-c", "retention.ms=abc", "-b", broker.bootstrap)
    assert "INVALID_CONFIG" in err or "retention.ms" in err
    err = fails("topic", "create", "bad/name", "-b", broker.bootstrap)
    assert "TOPIC_EXCEPTION" in err and "not a valid topic name" in err

    err = fails("topic", "create", topic_name, "-p", "0", "-b", broker.bootstrap, code=2)
    assert "--partitions" in err
    err = fails("topic", "create", topic_name, "-p", "many", "-b", broker.bootstrap, code=2)
    assert "--partitions" in err
    err = fails("topic", "create", topic_name, "-c", "novalue", "-b", broker.bootstrap, code=2)
    assert "--config expects key=value, got 'novalue'" in err
    err = fails("topic", "create", "-b", broker.bootstrap, code=2)
    assert "name is required" in err


def test_add_partitions(broker, topic_name):
    ok("topic", "create", topic_name, "-p", "2", "-b", broker.bootstrap)
    out = ok("topic", "add-partitions", topic_name, "-n", "3", "-b", broker.bootstrap)
    assert f"{topic_name} now has 5 partitions" in out
    d = describe(broker, topic_name)
    assert [p["partition"] for p in d["partitions"]] == [0, 1, 2, 3, 4]
    err = fails("topic", "add-partitions", "no-such-topic", "-n", "1", "-b", broker.bootstrap)
    assert "unknown topic 'no-such-topic'" in err
    fails("topic", "add-partitions", topic_name, "-b", broker.bootstrap, code=2)


def test_alter_config_keeps_other_configs(broker, topic_name):
    ok("topic", "create", topic_name, "-c", "segment.bytes=1048576", "-b", broker.bootstrap)
    out = ok("topic", "alter-config", topic_name, "--set", "retention.ms=5000", "-b", broker.bootstrap)
    assert out == "set retention.ms=5000\n"
    c = describe(broker, topic_name)["configs"]
    assert c["retention.ms"]["value"] == "5000"
    assert c["segment.bytes"]["value"] == "1048576"
    ok("topic", "alter-config", topic_name, "--delete", "retention.ms", "-b", broker.bootstrap)
    c = describe(broker, topic_name)["configs"]
    assert c["retention.ms"]["source"] != "DYNAMIC_TOPIC_CONFIG"
    assert c["segment.bytes"]["value"] == "1048576"
    err = fails("topic", "alter-config", topic_name, "--set", "retention.ms=soon", "-b", broker.bootstrap)
    assert "retention.ms" in err
    err = fails("topic", "alter-config", "no-such-topic", "--set", "retention.ms=1", "-b", broker.bootstrap)
    assert "unknown topic 'no-such-topic'" in err
    err = fails("topic", "alter-config", topic_name, "-b", broker.bootstrap, code=2)
    assert "nothing to do" in err


def test_describe_unknown_topic(broker):
    err = fails("topic", "describe", "no-such-topic", "-b", broker.bootstrap)
    assert "unknown topic 'no-such-topic'" in err


def test_cluster_info(broker):
    info = ok_json("cluster", "info", "-b", broker.bootstrap, "--json")
    assert len(info["brokers"]) == 1
    b = info["brokers"][0]
    assert (b["host"], b["port"]) == ("127.0.0.1", broker.port)
    assert info["controller"] == b["id"] and b["controller"] is True
    assert info["cluster_id"]
    apis = {a["name"]: (a["min_version"], a["max_version"]) for a in b["api_versions"]}
    assert apis["ApiVersions"][1] >= 3 and apis["Produce"][1] >= 7 and "Fetch" in apis
    text = ok("cluster", "info", "-b", broker.bootstrap, "--api-versions")
    assert f"cluster id:  {info['cluster_id']}" in text
    assert ["ApiVersions", f"{apis['ApiVersions'][0]}-{apis['ApiVersions'][1]}"] in [
        line.split()[1:] for line in text.splitlines() if line.split()[:1] == ["18"]]


@pytest.mark.parametrize("args", [
    ["topic", "list"], ["topic", "describe", "t"], ["topic", "create", "t"], ["topic", "delete", "t"],
    ["produce", "t"], ["consume", "t"], ["cluster", "info"], ["group", "list"]])
def test_unreachable_broker(args):
    port = free_port()  # nothing listens there
    r = run(*args, "-b", f"127.0.0.1:{port}", "--timeout", "1500", input="x\n", timeout=30)
    assert r.returncode == 1, r
    assert f"cannot reach broker(s) 127.0.0.1:{port} within 1500 ms" in r.stderr.decode()


HELP_COMMANDS = [[], ["topic"], ["topic", "create"], ["topic", "list"], ["topic", "describe"],
                 ["topic", "delete"], ["topic", "add-partitions"], ["topic", "alter-config"],
                 ["produce"], ["consume"], ["cluster"], ["cluster", "info"], ["group"],
                 ["group", "list"], ["group", "describe"], ["group", "delete"], ["group", "reset-offsets"],
                 ["bench"], ["bench", "produce"], ["bench", "consume"], ["bench", "e2e"]]


@pytest.mark.parametrize("cmd", HELP_COMMANDS, ids=lambda c: "-".join(c) or "sluice")
def test_help(cmd):
    r = run(*cmd, "--help")
    assert r.returncode == 0, r
    out = r.stdout.decode()
    assert "Usage:" in out or "USAGE" in out.upper()
    if cmd and cmd[-1] not in ("topic", "cluster", "group", "bench"):
        assert "-b,--brokers" in out or cmd == ["log"], out


def test_unknown_subcommand_and_option():
    r = run("topic", "frobnicate")
    assert r.returncode == 2
    r = run("topic", "list", "--no-such-flag")
    assert r.returncode == 2 and "--no-such-flag" in r.stderr.decode()
