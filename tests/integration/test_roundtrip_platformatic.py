"""@platformatic/kafka 1.35.0: topic created with its Admin, 100,000 keyed records with headers
and explicit timestamps produced at acks=-1 with compatibilityPartitioner (Java's murmur2
partitioning), read back with Consumer.fetch at explicit offsets (no group join)."""

import pytest

from roundtrip import (ROUNDTRIP_PARTITIONS, make_dataset, read_consumed_jsonl, verify_roundtrip,
                       write_dataset_jsonl)
from test_roundtrip_kafkajs import run_node


@pytest.mark.sluice_only  # librdkafka 2.0.2 mock: no ApiVersions v3, which platformatic 1.x requires
def test_platformatic_roundtrip(broker, topic_name, tmp_path):
    if broker.is_mock:
        broker.create_topic(topic_name, ROUNDTRIP_PARTITIONS)  # the mock has no CreateTopics
    records = make_dataset("platformatic")
    write_dataset_jsonl(records, tmp_path / "in.jsonl")
    summary = run_node("platformatic_roundtrip.mjs", {
        "bootstrap": broker.bootstrap, "topic": topic_name, "partitions": ROUNDTRIP_PARTITIONS,
        "input": str(tmp_path / "in.jsonl"), "output": str(tmp_path / "out.jsonl"),
        "createTopic": not broker.is_mock,
    })
    assert summary["produced"] == len(records)
    assert summary["ackProblems"] == [], summary["ackProblems"][:5]
    ends = [int(e) for e in summary["ends"]]
    assert sum(ends) == len(records), f"listOffsets latest offsets {ends}"

    consumed = read_consumed_jsonl(tmp_path / "out.jsonl")
    verify_roundtrip(records, consumed, ROUNDTRIP_PARTITIONS, client="@platformatic/kafka")
