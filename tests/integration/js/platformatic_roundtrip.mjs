// @platformatic/kafka 1.35.0 driver for test_roundtrip_platformatic.py.
// Usage: node platformatic_roundtrip.mjs '<json options>'
//   {bootstrap, topic, partitions, input, output, createTopic}
// Creates the topic with its Admin (createTopic), produces the records of `input` (JSON lines
// {k, v, h, ts}, bytes as latin-1 strings) in order at acks=-1 with compatibilityPartitioner
// (its default partitioner is NOT Java-compatible for negative murmur2 hashes), then reads every
// partition back with Consumer.fetch (a plain Fetch to the leader with explicit offsets: no
// group join) up to the offsets Consumer.listOffsets reports. Writes `output` as JSON lines
// {p, o, k, v, h, ts}; a summary JSON object goes to stdout.
import fs from 'node:fs'
import { Admin, Consumer, Producer, ProduceAcks, compatibilityPartitioner } from '@platformatic/kafka'

const opts = JSON.parse(process.argv[2])
const CHUNK = 5000
const base = { clientId: 'sluice-itest-platformatic', bootstrapBrokers: [opts.bootstrap], retries: 3, timeout: 30000 }

const bufOrNull = s => (s === null || s === undefined ? null : Buffer.from(s, 'latin1'))
const strOrNull = b => (b === null || b === undefined ? null : Buffer.from(b).toString('latin1'))

async function main () {
  const summary = { created: null, produced: 0, ackProblems: [], ends: null, consumed: 0 }

  if (opts.createTopic) {
    const admin = new Admin(base)
    summary.created = await admin.createTopics({ topics: [opts.topic], partitions: opts.partitions, replicas: 1 })
    await admin.close()
  }

  const lines = fs.readFileSync(opts.input, 'latin1').split('\n').filter(l => l.length > 0)
  const producer = new Producer({ ...base, partitioner: compatibilityPartitioner, autocreateTopics: false })
  const nextOffset = new Array(opts.partitions).fill(0n)
  for (let i = 0; i < lines.length; i += CHUNK) {
    const messages = lines.slice(i, i + CHUNK).map(line => {
      const r = JSON.parse(line)
      const headers = new Map()
      for (const [hk, hv] of r.h) headers.set(Buffer.from(hk, 'utf8'), bufOrNull(hv))
      return { topic: opts.topic, key: bufOrNull(r.k), value: bufOrNull(r.v), headers, timestamp: BigInt(r.ts) }
    })
    const result = await producer.send({ messages, acks: ProduceAcks.ALL })
    const perPartition = new Array(opts.partitions).fill(0n)
    for (const m of messages) perPartition[compatibilityPartitioner(m, m.key) % opts.partitions] += 1n
    for (const { partition, offset } of result.offsets ?? []) {
      if (BigInt(offset) !== nextOffset[partition]) {
        summary.ackProblems.push(`partition ${partition}: acknowledged base offset ${offset}, expected ${nextOffset[partition]}`)
      }
    }
    for (let p = 0; p < opts.partitions; p++) nextOffset[p] += perPartition[p]
    summary.produced += messages.length
  }
  await producer.close()

  // groupId is required by the constructor; fetch() and listOffsets() never join the group.
  const consumer = new Consumer({ ...base, groupId: 'sluice-itest-unused', autocommit: false })
  const ends = (await consumer.listOffsets({ topics: [opts.topic] })).get(opts.topic).map(o => BigInt(o))
  summary.ends = ends.map(String)
  const metadata = await consumer.metadata({ topics: [opts.topic] })
  const topicMeta = metadata.topics.get(opts.topic)
  const out = []
  for (let p = 0; p < opts.partitions; p++) {
    let offset = 0n
    let emptyFetches = 0
    while (offset < ends[p]) {
      const resp = await consumer.fetch({
        node: topicMeta.partitions[p].leader,
        maxWaitTime: 100,
        topics: [{
          topicId: topicMeta.id,
          partitions: [{ partition: p, fetchOffset: offset, partitionMaxBytes: 4194304, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }]
        }]
      })
      let progressed = false
      for (const tr of resp.responses) {
        for (const pr of tr.partitions) {
          if (pr.errorCode !== 0) throw new Error(`fetch partition ${p} at ${offset}: error ${pr.errorCode}`)
          for (const batch of pr.records ?? []) {
            if (batch.attributes & 0x20) continue // control batch
            for (const r of batch.records) {
              const o = batch.firstOffset + BigInt(r.offsetDelta)
              if (o < offset || o >= ends[p]) continue
              out.push(JSON.stringify({
                p, o: Number(o), ts: Number(batch.firstTimestamp + BigInt(r.timestampDelta)),
                k: strOrNull(r.key), v: strOrNull(r.value),
                h: r.headers.map(([hk, hv]) => [Buffer.from(hk).toString('utf8'), strOrNull(hv)])
              }))
              offset = o + 1n
              progressed = true
            }
          }
        }
      }
      if (!progressed && ++emptyFetches > 50) throw new Error(`fetch partition ${p} stuck at ${offset} (end ${ends[p]})`)
    }
  }
  await consumer.close()
  fs.writeFileSync(opts.output, out.join('\n') + '\n')
  summary.consumed = out.length
  process.stdout.write(JSON.stringify(summary, (k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n')
}

main().catch(e => {
  process.stderr.write(`platformatic driver failed: ${e && e.stack ? e.stack : e}\n${e && e.errors ? JSON.stringify(e.errors, (k, v) => (typeof v === 'bigint' ? v.toString() : v)) : ''}\n`)
  process.exit(1)
})
