// kafkajs 2.2.4 admin calls against a broker; prints one JSON line with what each call returned.
// Usage: node kafkajs_admin.js '{"bootstrap": "127.0.0.1:9092", "topic": "t"}'
// Sequence: createTopics(2) → createPartitions(4) → produce 10 records to partition 0 →
// alterConfigs(retention.ms) → describeConfigs → deleteTopicRecords(offset 4, then -1 on p1) →
// fetchTopicOffsets → describeCluster → deleteTopics → listTopics.
const { Kafka, ConfigResourceTypes, logLevel } = require('kafkajs')

async function main () {
  const opts = JSON.parse(process.argv[2])
  const kafka = new Kafka({ clientId: 'sluice-admin-test', brokers: [opts.bootstrap], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const out = {}
  const topic = opts.topic
  out.created = await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true })
  await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] })
  out.partitionsAfterCreate = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions.length
  try {
    await admin.createPartitions({ topicPartitions: [{ topic, count: 3 }] })
    out.shrinkError = null
  } catch (e) {
    out.shrinkError = e.type || e.message
  }

  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const messages = []
  for (let i = 0; i < 10; i++) messages.push({ key: `k${i}`, value: `v${i}`, partition: 0 })
  await producer.send({ topic, messages, acks: -1 })
  await producer.send({ topic, messages: [{ value: 'x', partition: 1 }, { value: 'y', partition: 1 }], acks: -1 })
  await producer.disconnect()

  await admin.alterConfigs({
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '123456' }] }]
  })
  const described = await admin.describeConfigs({
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['retention.ms', 'cleanup.policy'] }],
    includeSynonyms: true
  })
  out.describedTopic = described.resources[0].configEntries.map(e => ({
    name: e.configName, value: e.configValue, isDefault: e.isDefault, source: e.configSource, synonyms: e.configSynonyms.length
  }))
  out.describeErrorCode = described.resources[0].errorCode

  await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '4' }, { partition: 1, offset: '-1' }] })
  out.offsets = (await admin.fetchTopicOffsets(topic)).map(o => ({ partition: o.partition, low: o.low, high: o.high }))
  try {
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '100' }] })
    out.beyondHwError = null
  } catch (e) {
    // kafkajs wraps the per-partition errors: NonRetriableError { cause: DeleteTopicRecordsError }
    const inner = e.cause || e
    out.beyondHwError = (inner.partitions && inner.partitions[0].error.type) || e.message
  }

  const cluster = await admin.describeCluster()
  out.cluster = { clusterId: cluster.clusterId, controller: cluster.controller, brokers: cluster.brokers }

  await admin.deleteTopics({ topics: [topic], timeout: 10000 })
  out.topicsAfterDelete = await admin.listTopics()
  await admin.disconnect()
  console.log(JSON.stringify(out))
}

main().catch(e => {
  console.error(e && e.stack ? e.stack : e)
  process.exit(1)
})
