#!/usr/bin/python3
"""An exactly-once copier (consume-transform-produce) on librdkafka, as an application writes one.

Copies every record of the input topic to the same partition of the output topic, one transaction
per consumed batch, committing the consumed offsets in the same transaction
(send_offsets_to_transaction). It reads with isolation.level=read_committed, assigns every input
partition itself (no rebalances) and starts from the group's committed offsets, so a copier that
was killed and is started again with the same transactional.id fences the old instance, lets the
coordinator abort its open transaction, and carries on where the last committed transaction ended.

Prints one JSON line per finished transaction ({"copied": n, "aborted": bool}) and exits 0 once the
committed offsets cover `--expect` input records. A fatal producer error (e.g. fenced) exits 3.

Usage: txn_copier.py BOOTSTRAP INPUT OUTPUT GROUP TRANSACTIONAL_ID --partitions N --expect N
       [--batch N] [--abort-ratio R] [--seed S]
"""

import argparse
import json
import random
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition


def log(**fields):
    print(json.dumps(fields), flush=True)


def committed_positions(consumer, topic, partitions):
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    deadline = time.monotonic() + 60
    while True:
        try:
            got = consumer.committed(tps, timeout=10)
            return {tp.partition: max(tp.offset, 0) for tp in got}
        except KafkaException as e:
            # UNSTABLE_OFFSET_COMMIT and coordinator moves are retriable.
            if time.monotonic() > deadline or not e.args[0].retriable():
                raise
            time.sleep(0.2)


def main():
    ap = argparse.ArgumentParser()
    for name in ("bootstrap", "input", "output", "group", "transactional_id"):
        ap.add_argument(name)
    ap.add_argument("--partitions", type=int, required=True)
    ap.add_argument("--expect", type=int, required=True)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--abort-ratio", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    producer = Producer({
        "bootstrap.servers": args.bootstrap,
        "transactional.id": args.transactional_id,
        "transaction.timeout.ms": 10000,
        "linger.ms": 5,
        "message.timeout.ms": 10000,
    })
    consumer = Consumer({
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    })
    producer.init_transactions(60)
    positions = committed_positions(consumer, args.input, args.partitions)
    log(started=True, positions=positions)

    def assign(pos):
        consumer.assign([TopicPartition(args.input, p, pos[p]) for p in range(args.partitions)])

    assign(positions)
    while sum(positions.values()) < args.expect:
        msgs = consumer.consume(num_messages=args.batch, timeout=1.0)
        msgs = [m for m in msgs if not m.error()]
        if not msgs:
            continue
        nxt = dict(positions)
        try:
            producer.begin_transaction()
            for m in msgs:
                while True:
                    try:
                        producer.produce(args.output, key=m.key(), value=m.value(), partition=m.partition())
                        break
                    except BufferError:
                        producer.poll(0.05)
                nxt[m.partition()] = m.offset() + 1
            offsets = [TopicPartition(args.input, p, o) for p, o in nxt.items()]
            producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), 30)
            if rng.random() < args.abort_ratio:
                producer.abort_transaction(30)
                assign(positions)  # read the aborted batch again
                log(copied=sum(positions.values()), aborted=True)
                continue
            commit_with_retries(producer)
            positions = nxt
            log(copied=sum(positions.values()), aborted=False)
        except KafkaException as e:
            err = e.args[0]
            if err.fatal():
                log(fatal=str(err))
                return 3
            if err.txn_requires_abort():
                log(abortable=str(err))
                producer.abort_transaction(60)
                assign(positions)
                continue
            raise
    consumer.close()
    log(done=True, copied=sum(positions.values()))
    return 0


def commit_with_retries(producer):
    while True:
        try:
            producer.commit_transaction(30)
            return
        except KafkaException as e:
            if e.args[0].retriable():
                continue
            raise


if __name__ == "__main__":
    sys.exit(main())
