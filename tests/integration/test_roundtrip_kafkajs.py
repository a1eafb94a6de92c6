"""kafkajs 2.2.4: topic created with kafkajs's admin.createTopics, 100,000 keyed records with
headers and explicit timestamps produced at acks=-1 with its Java-compatible DefaultPartitioner,
read back through kafkajs's own Fetch path with explicit offsets (its consumer needs groups,
which Sluice does not serve yet; see js/kafkajs_roundtrip.js)."""

import json
import os
import subprocess

from roundtrip import (ROUNDTRIP_PARTITIONS, make_dataset, read_consumed_jsonl, verify_roundtrip,
                       write_dataset_jsonl)

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")


def run_node(script, options, timeout=240):
    env = dict(os.environ, KAFKAJS_NO_PARTITIONER_WARNING="1")
    proc = subprocess.run(["node", os.path.join(JS_DIR, script), json.dumps(options)],
                          capture_output=True, timeout=timeout, cwd=JS_DIR, env=env)
    assert proc.returncode == 0, (f"{script} exited {proc.returncode}:\n"
                                  f"{proc.stderr.decode(errors='replace')[-4000:]}")
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


def test_kafkajs_roundtrip(broker, topic_name, tmp_path):
    if broker.is_mock:
        broker.create_topic(topic_name, ROUNDTRIP_PARTITIONS)  # the mock has no CreateTopics
    records = make_dataset("kafkajs")
    write_dataset_jsonl(records, tmp_path / "in.jsonl")
    summary = run_node("kafkajs_roundtrip.js", {
        "bootstrap": broker.bootstrap, "topic": topic_name, "partitions": ROUNDTRIP_PARTITIONS,
        "input": str(tmp_path / "in.jsonl"), "output": str(tmp_path / "out.jsonl"),
        "createTopic": not broker.is_mock,
    })
    if not broker.is_mock:
        assert summary["created"] is True, f"kafkajs admin.createTopics returned {summary['created']}"
    assert summary["produced"] == len(records)
    assert summary["ackProblems"] == [], summary["ackProblems"][:5]
    highs = {int(o["partition"]): int(o["high"]) for o in summary["offsets"]}
    assert sum(highs.values()) == len(records), f"fetchTopicOffsets high watermarks {highs}"

    consumed = read_consumed_jsonl(tmp_path / "out.jsonl")
    verify_roundtrip(records, consumed, ROUNDTRIP_PARTITIONS, client="kafkajs")
