// @platformatic/kafka 1.35.0 transactions driver for test_transactions.py. Prints one JSON object.
// Usage: node platformatic_txn.mjs '<json options>'   {bootstrap, topic, transactionalId}
//   1. a transaction sending p1-0..p1-5 over partitions 0..2, committed;
//   2. a transaction sending pa-0..pa-5, aborted;
//   3. a transaction sending p2-0..p2-2, committed.
// Returns {producerId, epochs: [epoch seen in each transaction]}; {error} on a failure.
import { Producer, ProduceAcks } from '@platformatic/kafka'

const opts = JSON.parse(process.argv[2])

function messages (prefix, n) {
  const out = []
  for (let i = 0; i < n; i++) {
    out.push({ topic: opts.topic, key: Buffer.from(`k${i}`), value: Buffer.from(`${prefix}-${i}`), partition: i % 3 })
  }
  return out
}

async function main () {
  const producer = new Producer({
    clientId: 'sluice-itest-platformatic-txn',
    bootstrapBrokers: [opts.bootstrap],
    idempotent: true,
    acks: ProduceAcks.ALL,
    transactionalId: opts.transactionalId,
    retries: 5,
    timeout: 30000
  })
  const epochs = []
  try {
    for (const [prefix, n, commit] of [['p1', 6, true], ['pa', 6, false], ['p2', 3, true]]) {
      const txn = await producer.beginTransaction()
      await txn.send({ messages: messages(prefix, n) })
      epochs.push(producer.producerEpoch)
      if (commit) await txn.commit()
      else await txn.abort()
    }
    console.log(JSON.stringify({ producerId: String(producer.producerId), epochs }))
  } finally {
    await producer.close()
  }
}

main().catch(e => {
  console.log(JSON.stringify({ error: String((e && (e.stack || e)) || e) }))
  process.exit(1)
})
