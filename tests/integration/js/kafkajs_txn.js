// kafkajs 2.2.4 transactions driver for test_transactions.py. Prints one JSON object.
// Usage: node kafkajs_txn.js '<json options>'
//   {mode: "consume", bootstrap, topic, readUncommitted, expect, groupId}
//     Reads the topic from the beginning in a fresh consumer group until `expect` records arrived
//     and then nothing more for 3 s (or 60 s without reaching `expect`); returns
//     {values: {partition: [value, ...]}} in consumption order.
//   {mode: "transactions", bootstrap, topic, offsetsTopic, groupId, transactionalId}
//     1. a transaction sending c1-0..c1-5 over partitions 0..2, committed;
//     2. a transaction sending a-0..a-5, aborted;
//     3. a transaction sending c2-0..c2-2 plus sendOffsets(group, offsetsTopic partition 0 -> 7),
//        committed;
//     4. a zombie: a second producer with the same transactionalId is initialised while the first
//        has an open transaction holding z-0; the first's send and commit must fail.
//     Returns {fetchedOffsets, zombieSendError, zombieCommitError, fencerCommitted}.
'use strict'
const { Kafka, logLevel } = require('kafkajs')

const opts = JSON.parse(process.argv[2])

function kafkaClient (clientId) {
  return new Kafka({
    clientId,
    brokers: [opts.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 5 },
    requestTimeout: 20000
  })
}

function messages (prefix, n) {
  const out = []
  for (let i = 0; i < n; i++) out.push({ key: `k${i}`, value: `${prefix}-${i}`, partition: i % 3 })
  return out
}

function errorName (e) {
  if (!e) return null
  return e.type || (e.cause && e.cause.type) || e.name || e.message
}

async function consume () {
  const kafka = kafkaClient('sluice-itest-kafkajs-txn-consumer')
  const consumer = kafka.consumer({
    groupId: opts.groupId,
    readUncommitted: !!opts.readUncommitted,
    sessionTimeout: 10000,
    heartbeatInterval: 1000
  })
  await consumer.connect()
  await consumer.subscribe({ topic: opts.topic, fromBeginning: true })
  const values = {}
  let count = 0
  let last = Date.now()
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      if (!values[partition]) values[partition] = []
      values[partition].push(message.value === null ? null : message.value.toString())
      count++
      last = Date.now()
    }
  })
  const start = Date.now()
  while (true) {
    await new Promise(resolve => setTimeout(resolve, 200))
    if (count >= opts.expect && Date.now() - last > 3000) break
    if (count < opts.expect && Date.now() - start > 60000) break
  }
  await consumer.disconnect()
  return { values, count }
}

async function transactions () {
  const kafka = kafkaClient('sluice-itest-kafkajs-txn')
  const topic = opts.topic
  const producer = kafka.producer({ transactionalId: opts.transactionalId, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()

  const t1 = await producer.transaction()
  await t1.send({ topic, messages: messages('c1', 6) })
  await t1.commit()

  const t2 = await producer.transaction()
  await t2.send({ topic, messages: messages('a', 6) })
  await t2.abort()

  const t3 = await producer.transaction()
  await t3.send({ topic, messages: messages('c2', 3) })
  await t3.sendOffsets({
    consumerGroupId: opts.groupId,
    topics: [{ topic: opts.offsetsTopic, partitions: [{ partition: 0, offset: '7' }] }]
  })
  await t3.commit()

  const admin = kafka.admin()
  await admin.connect()
  const fetched = await admin.fetchOffsets({ groupId: opts.groupId, topics: [opts.offsetsTopic] })
  await admin.disconnect()

  // Zombie fencing.
  const zombie = await producer.transaction()
  await zombie.send({ topic, messages: [{ value: 'z-0', partition: 0 }] })
  const fencer = kafka.producer({ transactionalId: opts.transactionalId, idempotent: true, maxInFlightRequests: 1 })
  await fencer.connect()
  // kafkajs sends the transactional InitProducerId (the epoch bump that fences) on the first
  // transaction() call, not on connect().
  const t4 = await fencer.transaction()
  let zombieSendError = null
  let zombieCommitError = null
  try {
    await zombie.send({ topic, messages: [{ value: 'z-1', partition: 1 }] })
  } catch (e) {
    zombieSendError = errorName(e)
  }
  try {
    await zombie.commit()
  } catch (e) {
    zombieCommitError = errorName(e)
  }
  await t4.send({ topic, messages: [{ value: 'f-0', partition: 2 }] })
  await t4.commit()
  await fencer.disconnect()
  await producer.disconnect().catch(() => {})

  return {
    fetchedOffsets: fetched[0].partitions.map(p => ({ partition: p.partition, offset: p.offset })),
    zombieSendError,
    zombieCommitError,
    fencerCommitted: true
  }
}

async function main () {
  const out = opts.mode === 'consume' ? await consume() : await transactions()
  process.stdout.write(JSON.stringify(out) + '\n')
}

main().then(() => process.exit(0), e => {
  process.stdout.write(JSON.stringify({ error: errorName(e), message: e.message, stack: e.stack }) + '\n')
  process.exit(1)
})
