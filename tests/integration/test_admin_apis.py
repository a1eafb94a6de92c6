"""Admin APIs against a real broker: CreatePartitions, DeleteTopics, DescribeConfigs,
AlterConfigs, IncrementalAlterConfigs, DeleteRecords, DescribeCluster and DescribeLogDirs, through
confluent-kafka-python (librdkafka), kafkajs 2.2.4 and raw requests (kafkawire) where the
clients have no call for an API or version. Outcomes are checked (partition counts, config
values and sources, persistence across restarts, directories on disk, offsets), not only
error codes."""

import json
import os
import struct
import subprocess

import pytest
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, ConfigSource, NewPartitions

from kafkawire import (KafkaConnection, Reader, Record, build_batch, compact_array, compact_string, enc_array,
                       enc_string, uvarint)

pytestmark = pytest.mark.sluice_only  # librdkafka's mock cluster has no admin APIs

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")

# Kafka error codes
UNKNOWN_TOPIC_OR_PARTITION = 3
OFFSET_OUT_OF_RANGE = 1
INVALID_PARTITIONS = 37
INVALID_CONFIG = 40
INVALID_REQUEST = 42
TOPIC_DELETION_DISABLED = 73
UNKNOWN_TOPIC_ID = 100
MISMATCHED_ENDPOINT_TYPE = 114
UNSUPPORTED_ENDPOINT_TYPE = 115

API_DELETE_TOPICS = 20
API_DELETE_RECORDS = 21
API_DESCRIBE_CONFIGS = 32
API_DESCRIBE_LOG_DIRS = 35
API_INCREMENTAL_ALTER_CONFIGS = 44
API_DESCRIBE_CLUSTER = 60

RESOURCE_TOPIC = 2
RESOURCE_BROKER = 4
OP_SET, OP_DELETE, OP_APPEND, OP_SUBTRACT = 0, 1, 2, 3


def admin(broker):
    return AdminClient({"bootstrap.servers": broker.bootstrap})


def partition_count(broker, topic):
    with KafkaConnection(broker.host, broker.port) as c:
        err, parts = c.metadata([topic])[topic]
    assert err == 0, f"metadata for {topic}: error {err}"
    return len(parts)


def topic_exists(broker, topic):
    """Lists all topics (asking for the name would auto-create it)."""
    with KafkaConnection(broker.host, broker.port) as c:
        return topic in c.metadata(None)


def kafka_error(fut, timeout=30):
    """Runs an admin future that must fail; returns its KafkaError."""
    with pytest.raises(KafkaException) as e:
        fut.result(timeout)
    return e.value.args[0]


def describe_topic_configs(broker, topic):
    a = admin(broker)  # keep the client alive until the future completes
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    return a.describe_configs([res])[res].result(30)


def describe_broker_configs(broker, name="0"):
    a = admin(broker)
    res = ConfigResource(ConfigResource.Type.BROKER, name)
    return a.describe_configs([res])[res].result(30)


def produce(broker, topic, partition, count):
    records = [Record(key=b"k%d" % i, value=b"v%d" % i) for i in range(count)]
    with KafkaConnection(broker.host, broker.port) as c:
        err, base = c.produce(topic, partition, build_batch(records))
    assert err == 0, f"produce to {topic}-{partition}: error {err}"
    return base


# -- raw requests for APIs/versions the clients do not offer -----------------------------------


def describe_cluster_raw(broker, version, endpoint_type=1):
    body = struct.pack(">?", False)
    if version >= 1:
        body += struct.pack(">b", endpoint_type)
    body += uvarint(0)
    with KafkaConnection(broker.host, broker.port) as c:
        r = c.flexible_request(API_DESCRIBE_CLUSTER, version, body)
    out = {"throttle": r.int32(), "error": r.int16(), "message": r.compact_string()}
    if version >= 1:
        out["endpoint_type"] = r.int8()
    out["cluster_id"] = r.compact_string()
    out["controller_id"] = r.int32()

    def brk(r):
        b = (r.int32(), r.compact_string(), r.int32(), r.compact_string())
        r.tagged_fields(skip=True)
        return b

    out["brokers"] = r.compact_array(brk)
    out["ops"] = r.int32()
    r.done(skip=True)
    return out


def delete_topics_v6_raw(broker, topics):
    """topics: [(name or None, 16-byte id)] → [(name, id, error, message)]"""
    body = compact_array(topics, lambda t: compact_string(t[0]) + t[1] + uvarint(0))
    body += struct.pack(">i", 10000) + uvarint(0)
    with KafkaConnection(broker.host, broker.port) as c:
        r = c.flexible_request(API_DELETE_TOPICS, 6, body)
    r.int32()

    def res(r):
        x = (r.compact_string(), r.uuid(), r.int16(), r.compact_string())
        r.tagged_fields(skip=True)
        return x

    out = r.compact_array(res)
    r.done(skip=True)
    return out


def delete_records_raw(broker, topic, partition_offsets):
    """DeleteRecords v1: returns {partition: (low_watermark, error)}."""
    body = enc_array([topic], lambda t: enc_string(t) + enc_array(
        list(partition_offsets.items()), lambda po: struct.pack(">iq", po[0], po[1])))
    body += struct.pack(">i", 10000)
    with KafkaConnection(broker.host, broker.port) as c:
        r = Reader(c.request(API_DELETE_RECORDS, 1, body))
    r.int32()
    topics = r.array(lambda r: (r.string(), r.array(lambda r: (r.int32(), r.int64(), r.int16()))))
    assert r.remaining() == 0
    (_, parts), = topics
    return {p: (low, err) for p, low, err in parts}


def incremental_alter_raw(broker, resource_type, name, ops, validate_only=False):
    """IncrementalAlterConfigs v0: ops = [(key, op, value)]; returns (error, message)."""
    def res(_):
        return struct.pack(">b", resource_type) + enc_string(name) + enc_array(
            ops, lambda o: enc_string(o[0]) + struct.pack(">b", o[1]) + enc_string(o[2]))
    body = enc_array([0], res) + struct.pack(">?", validate_only)
    with KafkaConnection(broker.host, broker.port) as c:
        r = Reader(c.request(API_INCREMENTAL_ALTER_CONFIGS, 0, body))
    r.int32()
    results = r.array(lambda r: (r.int16(), r.string(), r.int8(), r.string()))
    assert r.remaining() == 0
    (err, msg, _, _), = results
    return err, msg


def describe_configs_raw(broker, resource_type, name, keys=None, version=1, synonyms=True):
    """DescribeConfigs v0-v3 (non-flexible): returns (error, {name: entry dict})."""
    body = enc_array([0], lambda _: struct.pack(">b", resource_type) + enc_string(name) +
                     enc_array(keys, enc_string))
    if version >= 1:
        body += struct.pack(">?", synonyms)
    if version >= 3:
        body += struct.pack(">?", True)
    with KafkaConnection(broker.host, broker.port) as c:
        r = Reader(c.request(API_DESCRIBE_CONFIGS, version, body))
    r.int32()

    def entry(r):
        e = {"name": r.string(), "value": r.string(), "read_only": r.int8() != 0}
        if version == 0:
            e["is_default"] = r.int8() != 0
        else:
            e["source"] = r.int8()
        e["sensitive"] = r.int8() != 0
        if version >= 1:
            e["synonyms"] = r.array(lambda r: (r.string(), r.string(), r.int8()))
        if version >= 3:
            e["type"] = r.int8()
            e["doc"] = r.string()
        return e

    results = r.array(lambda r: (r.int16(), r.string(), r.int8(), r.string(), r.array(entry)))
    assert r.remaining() == 0
    (err, _, _, _, entries), = results
    return err, {e["name"]: e for e in entries}


def describe_log_dirs_raw(broker, topics=None):
    """DescribeLogDirs v1: returns [(error, dir, {(topic, partition): size})]."""
    body = enc_array(topics, lambda t: enc_string(t[0]) + enc_array(t[1], lambda p: struct.pack(">i", p)))
    with KafkaConnection(broker.host, broker.port) as c:
        r = Reader(c.request(API_DESCRIBE_LOG_DIRS, 1, body))
    r.int32()

    def result(r):
        err, d = r.int16(), r.string()
        topics = r.array(lambda r: (r.string(), r.array(lambda r: (r.int32(), r.int64(), r.int64(), r.int8()))))
        return err, d, {(t, p): size for t, parts in topics for p, size, _, _ in parts}

    out = r.array(result)
    assert r.remaining() == 0
    return out


# -- tests ---------------------------------------------------------------------------------------


def test_create_partitions(broker, topic_name):
    broker.create_topic(topic_name, 2)
    a = admin(broker)
    a.create_partitions([NewPartitions(topic_name, 5)])[topic_name].result(30)
    assert partition_count(broker, topic_name) == 5

    # validate_only changes nothing
    a.create_partitions([NewPartitions(topic_name, 8)], validate_only=True)[topic_name].result(30)
    assert partition_count(broker, topic_name) == 5

    err = kafka_error(a.create_partitions([NewPartitions(topic_name, 3)])[topic_name])
    assert err.code() == INVALID_PARTITIONS
    assert "Topic currently has 5 partitions, which is higher than the requested 3." in err.str()
    err = kafka_error(a.create_partitions([NewPartitions(topic_name, 5)])[topic_name])
    assert err.code() == INVALID_PARTITIONS
    assert "Topic already has 5 partitions." in err.str()
    err = kafka_error(a.create_partitions([NewPartitions(topic_name + "-nope", 5)])[topic_name + "-nope"])
    assert err.code() == UNKNOWN_TOPIC_OR_PARTITION

    # explicit assignment: one replica list per new partition
    a.create_partitions([NewPartitions(topic_name, 6, replica_assignment=[[0]])])[topic_name].result(30)
    assert partition_count(broker, topic_name) == 6
    err = kafka_error(a.create_partitions([NewPartitions(topic_name, 8, replica_assignment=[[0]])])[topic_name])
    assert "Increasing the number of partitions by 2 but 1 assignments provided." in err.str()
    err = kafka_error(a.create_partitions([NewPartitions(topic_name, 7, replica_assignment=[[5]])])[topic_name])
    assert "Unknown broker(s) in replica assignment: 5." in err.str()

    # the new partitions take writes
    assert produce(broker, topic_name, 5, 3) == 0


def test_delete_topics(broker, topic_name):
    broker.create_topic(topic_name, 3)
    produce(broker, topic_name, 0, 5)
    dirs = [os.path.join(broker.data_dir, f"{topic_name}-{p}") for p in range(3)]
    assert all(os.path.isdir(d) for d in dirs)

    a = admin(broker)
    a.delete_topics([topic_name], operation_timeout=30)[topic_name].result(30)
    assert not topic_exists(broker, topic_name)
    # Kafka renames the directory to <topic>-<p>.<uuid>-delete before removing it.
    assert not any(os.path.isdir(d) for d in dirs), os.listdir(broker.data_dir)
    left = [n for n in os.listdir(broker.data_dir) if n.startswith(topic_name)]
    assert all(n.endswith("-delete") for n in left), left

    err = kafka_error(a.delete_topics([topic_name], operation_timeout=30)[topic_name])
    assert err.code() == UNKNOWN_TOPIC_OR_PARTITION

    # A topic of the same name starts empty.
    broker.create_topic(topic_name, 1)
    with KafkaConnection(broker.host, broker.port) as c:
        assert c.list_offsets(topic_name, 0, -1) == (0, 0)

    # Gone after a restart too (the deletion is in the metadata store).
    a.delete_topics([topic_name], operation_timeout=30)[topic_name].result(30)
    broker.restart()
    assert not topic_exists(broker, topic_name)


def create_topic_v7_raw(broker, name, partitions):
    """CreateTopics v7 (flexible); returns (error, topic id)."""
    body = compact_array([name], lambda n: compact_string(n) + struct.pack(">ih", partitions, 1) +
                         compact_array([], None) + compact_array([], None) + uvarint(0))
    body += struct.pack(">i?", 10000, False) + uvarint(0)
    with KafkaConnection(broker.host, broker.port) as c:
        r = c.flexible_request(19, 7, body)
    r.int32()
    assert r.uvarint() == 2  # one topic
    assert r.compact_string() == name
    tid = r.uuid()
    return r.int16(), tid


def test_delete_topics_v6_by_id(broker, topic_name):
    err, tid = create_topic_v7_raw(broker, topic_name, 2)
    assert err == 0 and tid != bytes(16)
    broker.wait_for_topic(topic_name, 2)
    (name, _, err, _), = delete_topics_v6_raw(broker, [(None, os.urandom(16))])
    assert err == UNKNOWN_TOPIC_ID and name is None
    (_, _, err, _), = delete_topics_v6_raw(broker, [(None, bytes(16))])
    assert err == UNKNOWN_TOPIC_ID
    (_, _, err, msg), = delete_topics_v6_raw(broker, [(topic_name, tid)])
    assert err == INVALID_REQUEST, msg
    assert topic_exists(broker, topic_name)
    # by id: the response names the topic
    (name, got_id, err, msg), = delete_topics_v6_raw(broker, [(None, tid)])
    assert (name, got_id, err) == (topic_name, tid, 0), msg
    assert not topic_exists(broker, topic_name)
    (_, _, err, _), = delete_topics_v6_raw(broker, [(None, tid)])
    assert err == UNKNOWN_TOPIC_ID
    # by name at v6: the response carries the (new) topic id
    err, tid2 = create_topic_v7_raw(broker, topic_name, 1)
    assert err == 0 and tid2 != tid
    broker.wait_for_topic(topic_name, 1)
    (name, got_id, err, _), = delete_topics_v6_raw(broker, [(topic_name, bytes(16))])
    assert (name, got_id, err) == (topic_name, tid2, 0)


@pytest.mark.broker_config({"delete.topic.enable": "false"})
def test_delete_topics_disabled(broker, topic_name):
    broker.create_topic(topic_name, 1)
    a = admin(broker)
    # librdkafka 2.0.2 sends DeleteTopics v1, which Kafka answers with INVALID_REQUEST (the
    # TOPIC_DELETION_DISABLED code exists from v3 on).
    err = kafka_error(a.delete_topics([topic_name], operation_timeout=30)[topic_name])
    assert err.code() == INVALID_REQUEST
    (_, _, err, msg), = delete_topics_v6_raw(broker, [(topic_name, bytes(16))])
    assert err == TOPIC_DELETION_DISABLED and msg == "Topic deletion is disabled."
    assert topic_exists(broker, topic_name)


def test_alter_configs_topic(broker, topic_name):
    broker.create_topic(topic_name, 1)
    a = admin(broker)
    res = ConfigResource(ConfigResource.Type.TOPIC, topic_name,
                         set_config={"retention.ms": "3600000", "cleanup.policy": "compact"})
    a.alter_configs([res])[res].result(30)
    cfg = describe_topic_configs(broker, topic_name)
    assert cfg["retention.ms"].value == "3600000"
    assert cfg["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert not cfg["retention.ms"].is_default
    assert cfg["cleanup.policy"].value == "compact"
    assert cfg["segment.bytes"].value == str(1 << 30)
    assert cfg["segment.bytes"].source == ConfigSource.DEFAULT_CONFIG.value

    # AlterConfigs replaces the whole set: cleanup.policy returns to its default.
    res = ConfigResource(ConfigResource.Type.TOPIC, topic_name, set_config={"retention.ms": "7200000"})
    a.alter_configs([res])[res].result(30)
    cfg = describe_topic_configs(broker, topic_name)
    assert cfg["retention.ms"].value == "7200000"
    assert cfg["cleanup.policy"].value == "delete"
    assert cfg["cleanup.policy"].source == ConfigSource.DEFAULT_CONFIG.value

    # validate_only changes nothing; bad values and unknown names are INVALID_CONFIG.
    res = ConfigResource(ConfigResource.Type.TOPIC, topic_name, set_config={"retention.ms": "1"})
    a.alter_configs([res], validate_only=True)[res].result(30)
    assert describe_topic_configs(broker, topic_name)["retention.ms"].value == "7200000"
    for bad in ({"retention.ms": "soon"}, {"no.such.config": "1"}, {"min.cleanable.dirty.ratio": "1.5"}):
        res = ConfigResource(ConfigResource.Type.TOPIC, topic_name, set_config=bad)
        assert kafka_error(a.alter_configs([res])[res]).code() == INVALID_CONFIG, bad
    res = ConfigResource(ConfigResource.Type.TOPIC, topic_name + "-nope", set_config={"retention.ms": "1"})
    assert kafka_error(a.alter_configs([res])[res]).code() == UNKNOWN_TOPIC_OR_PARTITION

    # Persisted: the override survives a restart.
    broker.restart()
    cfg = describe_topic_configs(broker, topic_name)
    assert cfg["retention.ms"].value == "7200000"
    assert cfg["retention.ms"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value


def test_incremental_alter_configs_topic(broker, topic_name):
    broker.create_topic(topic_name, 1, config={"retention.ms": "600000"})
    err, msg = incremental_alter_raw(broker, RESOURCE_TOPIC, topic_name, [
        ("cleanup.policy", OP_APPEND, "compact"), ("segment.ms", OP_SET, "3600000")])
    assert err == 0, msg
    _, cfg = describe_configs_raw(broker, RESOURCE_TOPIC, topic_name)
    assert sorted(cfg["cleanup.policy"]["value"].split(",")) == ["compact", "delete"]
    assert cfg["segment.ms"]["value"] == "3600000"
    assert cfg["retention.ms"]["value"] == "600000"  # untouched by an incremental change

    err, msg = incremental_alter_raw(broker, RESOURCE_TOPIC, topic_name, [
        ("cleanup.policy", OP_SUBTRACT, "delete"), ("retention.ms", OP_DELETE, None)])
    assert err == 0, msg
    _, cfg = describe_configs_raw(broker, RESOURCE_TOPIC, topic_name)
    assert cfg["cleanup.policy"]["value"] == "compact"
    assert cfg["retention.ms"]["value"] == "604800000"
    assert cfg["retention.ms"]["source"] == ConfigSource.DEFAULT_CONFIG.value

    # APPEND/SUBTRACT only on lists; unknown operations and duplicates are rejected.
    err, _ = incremental_alter_raw(broker, RESOURCE_TOPIC, topic_name, [("retention.ms", OP_APPEND, "1")])
    assert err == INVALID_CONFIG
    err, _ = incremental_alter_raw(broker, RESOURCE_TOPIC, topic_name, [("retention.ms", 9, "1")])
    assert err == INVALID_REQUEST
    err, _ = incremental_alter_raw(broker, RESOURCE_TOPIC, topic_name,
                                   [("retention.ms", OP_SET, "1"), ("retention.ms", OP_SET, "2")])
    assert err == INVALID_REQUEST
    err, _ = incremental_alter_raw(broker, RESOURCE_TOPIC, topic_name, [("segment.ms", OP_SET, "0")])
    assert err == INVALID_CONFIG
    # validate_only changes nothing
    err, _ = incremental_alter_raw(broker, RESOURCE_TOPIC, topic_name, [("segment.ms", OP_SET, "5000")],
                                   validate_only=True)
    assert err == 0
    _, cfg = describe_configs_raw(broker, RESOURCE_TOPIC, topic_name)
    assert cfg["segment.ms"]["value"] == "3600000"

    broker.restart()
    _, cfg = describe_configs_raw(broker, RESOURCE_TOPIC, topic_name)
    assert cfg["cleanup.policy"]["value"] == "compact"
    assert cfg["segment.ms"]["value"] == "3600000"
    assert cfg["segment.ms"]["source"] == ConfigSource.DYNAMIC_TOPIC_CONFIG.value


@pytest.mark.broker_config({"log.retention.hours": "100", "log.segment.bytes": "500000000"})
def test_describe_configs_broker_and_versions(broker, topic_name):
    cfg = describe_broker_configs(broker)
    assert cfg["log.retention.hours"].value == "100"
    assert cfg["log.retention.hours"].source == ConfigSource.STATIC_BROKER_CONFIG.value
    assert cfg["log.retention.hours"].is_read_only
    assert not cfg["message.max.bytes"].is_read_only
    assert cfg["message.max.bytes"].source == ConfigSource.DEFAULT_CONFIG.value
    assert cfg["num.partitions"].value == "1"

    # v3: config types and documentation; keys filter; synonyms of a topic config.
    broker.create_topic(topic_name, 1)
    keys = ["retention.ms", "cleanup.policy", "preallocate", "segment.bytes"]
    err, cfg = describe_configs_raw(broker, RESOURCE_TOPIC, topic_name, keys=keys, version=3)
    assert err == 0 and set(cfg) == set(keys)
    assert cfg["retention.ms"]["type"] == 5 and cfg["cleanup.policy"]["type"] == 7 and cfg["preallocate"]["type"] == 1
    assert cfg["retention.ms"]["doc"]
    assert cfg["retention.ms"]["value"] == str(100 * 3600 * 1000)
    # Kafka lists a topic config's broker synonyms from its primary broker name on
    # (log.retention.ms, unset here), so retention.ms shows none; segment.bytes shows both levels.
    assert cfg["segment.bytes"]["value"] == "500000000"
    assert cfg["segment.bytes"]["source"] == ConfigSource.STATIC_BROKER_CONFIG.value
    assert cfg["segment.bytes"]["synonyms"] == [
        ("log.segment.bytes", "500000000", ConfigSource.STATIC_BROKER_CONFIG.value),
        ("log.segment.bytes", "1073741824", ConfigSource.DEFAULT_CONFIG.value)]

    # v0: is_default
    err, cfg = describe_configs_raw(broker, RESOURCE_TOPIC, topic_name, keys=["segment.bytes", "preallocate"],
                                    version=0)
    assert err == 0 and cfg["preallocate"]["is_default"] and not cfg["segment.bytes"]["is_default"]

    # errors: unknown topic, another broker id, a non-numeric broker, unsupported type
    assert describe_configs_raw(broker, RESOURCE_TOPIC, topic_name + "-nope")[0] == UNKNOWN_TOPIC_OR_PARTITION
    assert describe_configs_raw(broker, RESOURCE_BROKER, "7")[0] == INVALID_REQUEST
    assert describe_configs_raw(broker, RESOURCE_BROKER, "x")[0] == INVALID_REQUEST
    assert describe_configs_raw(broker, 3, "group")[0] == INVALID_REQUEST
    # the cluster-default resource: no dynamic defaults are set, so no entries
    assert describe_configs_raw(broker, RESOURCE_BROKER, "") == (0, {})
    assert describe_configs_raw(broker, 8, "0") == (0, {})


def test_alter_configs_broker_dynamic(broker, topic_name):
    # (with a topic: see test_broker_dynamic_configs_persist_without_topics)
    broker.create_topic(topic_name, 1)
    a = admin(broker)
    res = ConfigResource(ConfigResource.Type.BROKER, "0", set_config={"message.max.bytes": "2000000"})
    a.alter_configs([res])[res].result(30)
    cfg = describe_broker_configs(broker)
    assert cfg["message.max.bytes"].value == "2000000"
    assert cfg["message.max.bytes"].source == ConfigSource.DYNAMIC_BROKER_CONFIG.value

    # only dynamic configs may change
    res = ConfigResource(ConfigResource.Type.BROKER, "0", set_config={"log.retention.hours": "1"})
    assert kafka_error(a.alter_configs([res])[res]).code() == INVALID_REQUEST
    err, _ = incremental_alter_raw(broker, RESOURCE_BROKER, "0", [("num.partitions", OP_SET, "3")])
    assert err == INVALID_REQUEST
    err, _ = incremental_alter_raw(broker, RESOURCE_BROKER, "0", [("message.max.bytes", OP_SET, "-5")])
    assert err == INVALID_CONFIG

    err, msg = incremental_alter_raw(broker, RESOURCE_BROKER, "0", [("log.cleanup.policy", OP_APPEND, "compact")])
    assert err == 0, msg
    broker.restart()
    err, cfg = describe_configs_raw(broker, RESOURCE_BROKER, "0", keys=["message.max.bytes", "log.cleanup.policy"])
    assert err == 0
    assert cfg["message.max.bytes"]["value"] == "2000000"
    assert cfg["message.max.bytes"]["source"] == ConfigSource.DYNAMIC_BROKER_CONFIG.value
    assert cfg["log.cleanup.policy"]["value"] == "delete,compact"

    err, msg = incremental_alter_raw(broker, RESOURCE_BROKER, "0", [("message.max.bytes", OP_DELETE, None)])
    assert err == 0, msg
    err, cfg = describe_configs_raw(broker, RESOURCE_BROKER, "0", keys=["message.max.bytes"])
    assert cfg["message.max.bytes"]["value"] == "1048588"
    assert cfg["message.max.bytes"]["source"] == ConfigSource.DEFAULT_CONFIG.value


def test_delete_records(broker, topic_name):
    broker.create_topic(topic_name, 2)
    produce(broker, topic_name, 0, 10)
    produce(broker, topic_name, 1, 3)
    got = delete_records_raw(broker, topic_name, {0: 4, 1: -1})
    assert got == {0: (4, 0), 1: (3, 0)}
    with KafkaConnection(broker.host, broker.port) as c:
        assert c.list_offsets(topic_name, 0, -2) == (0, 4)
        assert c.list_offsets(topic_name, 1, -2) == (0, 3)
        assert c.list_offsets(topic_name, 0, -1) == (0, 10)
        assert c.fetch(topic_name, 0, 0)[0] == OFFSET_OUT_OF_RANGE
    # beyond the high watermark, unknown partitions; a lower offset changes nothing
    got = delete_records_raw(broker, topic_name, {0: 11, 7: 0})
    assert got == {0: (-1, OFFSET_OUT_OF_RANGE), 7: (-1, UNKNOWN_TOPIC_OR_PARTITION)}
    assert delete_records_raw(broker, topic_name, {0: 2}) == {0: (4, 0)}
    # the log start offset survives a restart
    broker.restart()
    with KafkaConnection(broker.host, broker.port) as c:
        assert c.list_offsets(topic_name, 0, -2) == (0, 4)


def test_describe_cluster(broker):
    for v in (0, 1):
        d = describe_cluster_raw(broker, v)
        assert d["error"] == 0 and d["controller_id"] == 0
        assert d["brokers"] == [(0, "127.0.0.1", broker.port, None)]
        assert len(d["cluster_id"]) == 22
    assert describe_cluster_raw(broker, 1, endpoint_type=2)["error"] == MISMATCHED_ENDPOINT_TYPE
    assert describe_cluster_raw(broker, 1, endpoint_type=9)["error"] == UNSUPPORTED_ENDPOINT_TYPE
    # the cluster id is stable across restarts
    cid = describe_cluster_raw(broker, 0)["cluster_id"]
    broker.restart()
    assert describe_cluster_raw(broker, 0)["cluster_id"] == cid


def test_describe_log_dirs(broker, topic_name):
    broker.create_topic(topic_name, 2)
    produce(broker, topic_name, 0, 50)
    (err, d, parts), = describe_log_dirs_raw(broker)
    assert err == 0 and os.path.samefile(d, broker.data_dir)
    assert parts[(topic_name, 0)] > 0
    assert parts[(topic_name, 1)] == 0
    (err, _, parts), = describe_log_dirs_raw(broker, [(topic_name, [1])])
    assert list(parts) == [(topic_name, 1)]
    (err, _, parts), = describe_log_dirs_raw(broker, [])
    assert parts == {}


def run_node(script, options, timeout=120):
    env = dict(os.environ, KAFKAJS_NO_PARTITIONER_WARNING="1")
    proc = subprocess.run(["node", os.path.join(JS_DIR, script), json.dumps(options)],
                          capture_output=True, timeout=timeout, cwd=JS_DIR, env=env)
    assert proc.returncode == 0, (f"{script} exited {proc.returncode}:\n"
                                  f"{proc.stderr.decode(errors='replace')[-4000:]}")
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


def test_kafkajs_admin(broker, topic_name):
    out = run_node("kafkajs_admin.js", {"bootstrap": broker.bootstrap, "topic": topic_name})
    assert out["created"] is True
    assert out["partitionsAfterCreate"] == 4
    assert out["shrinkError"] == "INVALID_PARTITIONS"
    entries = {e["name"]: e for e in out["describedTopic"]}
    assert out["describeErrorCode"] == 0
    assert entries["retention.ms"]["value"] == "123456"
    assert entries["retention.ms"]["source"] == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert entries["cleanup.policy"]["value"] == "delete"
    offsets = {o["partition"]: (o["low"], o["high"]) for o in out["offsets"]}
    assert offsets[0] == ("4", "10") and offsets[1] == ("2", "2"), offsets
    assert out["beyondHwError"] == "OFFSET_OUT_OF_RANGE"
    assert out["cluster"]["controller"] == 0
    assert out["cluster"]["brokers"] == [{"nodeId": 0, "host": "127.0.0.1", "port": broker.port}]
    assert topic_name not in out["topicsAfterDelete"]


def test_broker_dynamic_configs_persist_without_topics(broker):
    err, msg = incremental_alter_raw(broker, RESOURCE_BROKER, "0", [("message.max.bytes", OP_SET, "2000000")])
    assert err == 0, msg
    broker.restart()
    _, cfg = describe_configs_raw(broker, RESOURCE_BROKER, "0", keys=["message.max.bytes"])
    assert cfg["message.max.bytes"]["value"] == "2000000"


def test_describe_log_dirs_v4_space(broker, topic_name):
    broker.create_topic(topic_name, 1)
    produce(broker, topic_name, 0, 20)
    with KafkaConnection(broker.host, broker.port) as c:
        r = c.flexible_request(API_DESCRIBE_LOG_DIRS, 4, compact_array(None, None) + uvarint(0))
    r.int32()
    assert r.int16() == 0

    def part(r):
        p = (r.int32(), r.int64(), r.int64(), r.int8())
        r.tagged_fields(skip=True)
        return p

    def topic(r):
        t = (r.compact_string(), r.compact_array(part))
        r.tagged_fields(skip=True)
        return t

    def result(r):
        x = {"error": r.int16(), "dir": r.compact_string(), "topics": r.compact_array(topic),
             "total": r.int64(), "usable": r.int64()}
        r.tagged_fields(skip=True)
        return x

    (d,) = r.compact_array(result)
    r.done(skip=True)
    assert d["error"] == 0 and os.path.samefile(d["dir"], broker.data_dir)
    assert 0 < d["usable"] <= d["total"]
    (name, parts), = [t for t in d["topics"] if t[0] == topic_name]
    (idx, size, lag, future), = parts
    assert idx == 0 and size > 0 and lag == 0 and future == 0
