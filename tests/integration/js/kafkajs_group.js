// kafkajs 2.2.4 consumer-group driver for test_group_clients.py.
// Usage: node kafkajs_group.js '<json options>'
//   {bootstrap, topic, group, members, expect, timeoutMs}
// Starts `members` consumers in group `group` (default RoundRobinAssigner, autoCommit after each
// batch) and consumes until `expect` records arrived in total or timeoutMs passed, then commits,
// disconnects (LeaveGroup) and prints {consumed: [[partition, offset, memberIndex], ...],
// assignments: [[partitions of member i], ...], listed, described} on stdout (admin views of
// the group while its members are still in it).
'use strict'
const { Kafka, logLevel } = require('kafkajs')

const opts = JSON.parse(process.argv[2])

async function main() {
  const kafka = new Kafka({
    clientId: 'sluice-itest-kafkajs-group',
    brokers: [opts.bootstrap],
    logLevel: logLevel.ERROR,
    retry: { retries: 8 },
    requestTimeout: 20000,
  })
  const consumed = []
  const assignments = []
  const consumers = []
  let resolveDone
  const done = new Promise(r => { resolveDone = r })
  for (let i = 0; i < opts.members; i++) {
    const c = kafka.consumer({
      groupId: opts.group,
      sessionTimeout: 6000,
      rebalanceTimeout: 10000,
      heartbeatInterval: 300,
      maxWaitTimeInMs: 100,
    })
    assignments.push([])
    c.on(c.events.GROUP_JOIN, e => {
      const a = e.payload.memberAssignment[opts.topic] || []
      assignments[i] = a.slice().sort((x, y) => x - y)
    })
    await c.connect()
    await c.subscribe({ topic: opts.topic, fromBeginning: true })
    await c.run({
      autoCommit: true,
      autoCommitThreshold: 1,
      eachMessage: async ({ partition, message }) => {
        consumed.push([partition, Number(message.offset), i])
        if (consumed.length >= opts.expect) resolveDone()
      },
    })
    consumers.push(c)
  }
  const timer = setTimeout(resolveDone, opts.timeoutMs)
  if (opts.expect === 0) setTimeout(resolveDone, opts.idleMs || 3000)
  await done
  clearTimeout(timer)
  // The admin view of the live group: ListGroups and DescribeGroups.
  const admin = kafka.admin()
  await admin.connect()
  const listed = (await admin.listGroups()).groups
  const described = (await admin.describeGroups([opts.group])).groups.map(g => ({
    groupId: g.groupId, state: g.state, protocolType: g.protocolType, protocol: g.protocol,
    members: g.members.map(m => ({ clientId: m.clientId, assignmentBytes: m.memberAssignment.length })),
  }))
  await admin.disconnect()
  for (const c of consumers) await c.disconnect()
  process.stdout.write(JSON.stringify({ consumed, assignments, listed, described }) + '\n')
}

main().catch(err => {
  process.stderr.write(`kafkajs_group failed: ${err && err.stack ? err.stack : err}\n`)
  process.exit(1)
})
