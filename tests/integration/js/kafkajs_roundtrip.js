// kafkajs 2.2.4 driver for test_roundtrip_kafkajs.py.
// Usage: node kafkajs_roundtrip.js '<json options>'
//   {bootstrap, topic, partitions, input, output, createTopic}
// Creates the topic with kafkajs's admin (createTopic), produces the records of `input` (JSON
// lines {k, v, h, ts}, bytes as latin-1 strings) in order at acks=-1 with the Java-compatible
// DefaultPartitioner, then reads every partition back and writes `output` as JSON lines
// {p, o, k, v, h, ts}. A summary JSON object goes to stdout.
//
// Reading back: kafkajs's consumer only works inside a consumer group, which Sluice does not
// serve yet. So this uses kafkajs's own lower layer instead: admin.fetchTopicOffsets for the
// high watermarks, then the Cluster/Broker objects kafkajs builds internally (Broker.fetch, the
// same Fetch request and record decoder its consumer uses) with explicit offsets.
'use strict'
const fs = require('fs')
const { Kafka, Partitioners, logLevel } = require('kafkajs')

const opts = JSON.parse(process.argv[2])
const CHUNK = 5000

function bufOrNull(s) {
  return s === null || s === undefined ? null : Buffer.from(s, 'latin1')
}

async function main() {
  const kafka = new Kafka({
    clientId: 'sluice-itest-kafkajs',
    brokers: [opts.bootstrap],
    logLevel: logLevel.ERROR,
    retry: { retries: 3 },
    requestTimeout: 20000,
  })
  const summary = { created: null, produced: 0, sends: 0, offsets: null, consumed: 0 }

  const admin = kafka.admin()
  await admin.connect()
  if (opts.createTopic) {
    summary.created = await admin.createTopics({
      topics: [{ topic: opts.topic, numPartitions: opts.partitions, replicationFactor: 1 }],
      waitForLeaders: true,
      timeout: 30000,
    })
  }

  const lines = fs.readFileSync(opts.input, 'latin1').split('\n').filter(l => l.length > 0)
  const producer = kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  })
  await producer.connect()
  // Per partition: the next offset we expect the broker to acknowledge (contiguous from 0).
  const nextOffset = new Array(opts.partitions).fill(0)
  summary.ackProblems = []
  for (let i = 0; i < lines.length; i += CHUNK) {
    const messages = lines.slice(i, i + CHUNK).map(line => {
      const r = JSON.parse(line)
      const headers = {}
      for (const [hk, hv] of r.h) headers[hk] = bufOrNull(hv)
      return { key: bufOrNull(r.k), value: bufOrNull(r.v), headers, timestamp: String(r.ts) }
    })
    const results = await producer.send({ topic: opts.topic, acks: -1, timeout: 30000, messages })
    for (const res of results) {
      if (res.errorCode !== 0) summary.ackProblems.push(`partition ${res.partition}: error ${res.errorCode}`)
      if (Number(res.baseOffset) !== nextOffset[res.partition]) {
        summary.ackProblems.push(`partition ${res.partition}: acknowledged base offset ${res.baseOffset}, expected ${nextOffset[res.partition]}`)
      }
    }
    summary.sends += 1
    summary.produced += messages.length
    // kafkajs does not report per-partition counts; recompute them from its partitioner.
    const partitioner = Partitioners.DefaultPartitioner()
    const meta = { topic: opts.topic, partitionMetadata: [...Array(opts.partitions).keys()].map(p => ({ partitionId: p, leader: 0 })) }
    for (const m of messages) nextOffset[partitioner({ ...meta, message: m })] += 1
  }
  await producer.disconnect()

  const offsets = await admin.fetchTopicOffsets(opts.topic)
  summary.offsets = offsets
  await admin.disconnect()

  // Low-level read path (see header comment).
  const createCluster = Object.getOwnPropertySymbols(kafka)
    .find(s => s.description === 'private:Kafka:createCluster')
  const cluster = kafka[createCluster]({ allowAutoTopicCreation: false })
  await cluster.connect()
  await cluster.addTargetTopic(opts.topic)
  const out = []
  for (const { partition, high } of offsets) {
    const end = Number(high)
    let offset = 0
    const leaders = cluster.findLeaderForPartitions(opts.topic, [partition])
    const nodeId = Object.keys(leaders)[0]
    const broker = await cluster.findBroker({ nodeId })
    let emptyFetches = 0
    while (offset < end) {
      const resp = await broker.fetch({
        replicaId: -1, isolationLevel: 1, maxWaitTime: 100, minBytes: 1, maxBytes: 10485760,
        topics: [{ topic: opts.topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes: 4194304 }] }],
      })
      const pr = resp.responses[0].partitions[0]
      if (pr.errorCode !== 0) throw new Error(`fetch partition ${partition} at ${offset}: error ${pr.errorCode}`)
      let progressed = false
      for (const m of pr.messages) {
        const o = Number(m.offset)
        if (o < offset || o >= end) continue
        if (m.isControlRecord) continue
        const h = Object.entries(m.headers || {}).map(([hk, hv]) => [hk, hv === null ? null : hv.toString('latin1')])
        out.push(JSON.stringify({
          p: partition, o, ts: Number(m.timestamp), h,
          k: m.key === null ? null : m.key.toString('latin1'),
          v: m.value === null ? null : m.value.toString('latin1'),
        }))
        offset = o + 1
        progressed = true
      }
      if (!progressed && ++emptyFetches > 50) throw new Error(`fetch partition ${partition} stuck at ${offset} (high watermark ${end})`)
    }
  }
  await cluster.disconnect()
  fs.writeFileSync(opts.output, out.join('\n') + '\n')
  summary.consumed = out.length
  process.stdout.write(JSON.stringify(summary) + '\n')
}

main().catch(e => {
  process.stderr.write(`kafkajs driver failed: ${e && e.stack ? e.stack : e}\n`)
  process.exit(1)
})
