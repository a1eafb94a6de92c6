"""confluent-kafka-python (librdkafka 2.0.2): 100,000 keyed records with headers and explicit
timestamps at acks=all into a 6-partition topic, consumed back by partition assignment."""

from confluent_kafka.admin import AdminClient, NewTopic

from clients import consume_confluent, produce_confluent
from roundtrip import ROUNDTRIP_PARTITIONS, make_dataset, verify_roundtrip


def test_confluent_roundtrip(broker, topic_name):
    if broker.is_mock:
        broker.create_topic(topic_name, ROUNDTRIP_PARTITIONS)  # the mock has no CreateTopics
    else:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        futures = admin.create_topics([NewTopic(topic_name, num_partitions=ROUNDTRIP_PARTITIONS,
                                                replication_factor=1)], operation_timeout=30)
        assert futures[topic_name].result(30) is None
        md = admin.list_topics(topic_name, timeout=10)
        assert len(md.topics[topic_name].partitions) == ROUNDTRIP_PARTITIONS

    records = make_dataset("confluent")
    reports = produce_confluent(broker.bootstrap, topic_name, records, acks="all")

    consumed = consume_confluent(broker.bootstrap, topic_name, ROUNDTRIP_PARTITIONS)
    verify_roundtrip(records, consumed, ROUNDTRIP_PARTITIONS, client="confluent-kafka-python")
    # The offsets the broker acknowledged are the offsets the records are read back at.
    at = {(p, r.offset): r.key for p, r in consumed}
    wrong = [(i, rep) for i, rep in enumerate(reports) if at.get(rep) != records[i].key]
    assert not wrong, f"{len(wrong)} records not at their acknowledged (partition, offset), first {wrong[:3]}"
