#!/usr/bin/env node
// The cost of one offsets poll (what kafka.drain and kafka.quiet do every interval), measured inside
// one process so start-up is left out: POLLS sequential groupOffsets and topicOffsets calls on a
// topic of PARTITIONS partitions, through the built adapter (run `npm run build` first).
//
//   KAFKA_BROKERS=127.0.0.1:9092 node bench/offsets-poll.mjs [--polls 20] [--partitions 100] [--rounds 5]
//
// Prints the median per-poll wall time of each round, the median over the rounds, and client CPU per poll.
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { connectKafka } from '../dist/adapters/kafka-connect.js';

const { values: opts } = parseArgs({ options: { polls: { type: 'string', default: '20' }, partitions: { type: 'string', default: '100' }, rounds: { type: 'string', default: '5' } } });
const POLLS = Number(opts.polls);
const PARTITIONS = Number(opts.partitions);
const ROUNDS = Number(opts.rounds);
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
if (!brokers.length) throw new Error('set KAFKA_BROKERS');

// One topic per partition count, created once and kept: creating 100 partitions on a busy broker
// takes longer than kafkajs waits for leaders, and the figure is about polling, not creating.
const topic = `bench-offsets-${PARTITIONS}`;
const group = `${topic}-g`;
const kafka = new kafkajs.Kafka({ clientId: 'bench', brokers, logLevel: kafkajs.logLevel.NOTHING });
const setup = kafka.admin();
await setup.connect();
if (!(await setup.listTopics()).includes(topic)) {
  await setup.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: PARTITIONS }] });
  for (;;) {
    const meta = await setup.fetchTopicMetadata({ topics: [topic] }).catch(() => undefined);
    if (meta?.topics[0]?.partitions.length === PARTITIONS && meta.topics[0].partitions.every((p) => p.leader >= 0)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: Array.from({ length: PARTITIONS * 10 }, (_, i) => ({ partition: i % PARTITIONS, value: `v${i}` })) });
  await producer.disconnect();
}
await setup.setOffsets({ groupId: group, topic, partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, offset: '5' })) });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const admin = await connectKafka({ brokers, clientId: 'bench' });
const rows = { groupOffsets: [], topicOffsets: [] };
/** Client CPU (user + system) per poll, less at the mercy of a busy machine's scheduler than wall time. */
const cpu = { groupOffsets: [], topicOffsets: [] };
let first;
try {
  // A fresh admin's first poll: what one `migrate run` of a one-look drain pays on top of connecting.
  const t0 = process.hrtime.bigint();
  await admin.groupOffsets(group, topic);
  first = Number(process.hrtime.bigint() - t0) / 1e6;
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, poll] of [['groupOffsets', () => admin.groupOffsets(group, topic)], ['topicOffsets', () => admin.topicOffsets(topic)]]) {
      await poll(); // the first call of a round may learn the topic's metadata
      const times = [];
      const cpuBefore = process.cpuUsage();
      for (let i = 0; i < POLLS; i++) {
        const t = process.hrtime.bigint();
        const offsets = await poll();
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (offsets.length !== PARTITIONS) throw new Error(`${name}: ${offsets.length} partitions`);
      }
      const used = process.cpuUsage(cpuBefore);
      cpu[name].push((used.user + used.system) / 1000 / POLLS);
      rows[name].push(median(times));
    }
  }
} finally {
  await admin.close();
  await setup.disconnect();
}
console.log(`first groupOffsets of a fresh admin: ${first.toFixed(2)} ms`);
for (const [name, medians] of Object.entries(rows)) {
  console.log(
    `${name}: ${POLLS} polls x ${PARTITIONS} partitions, per poll median ${median(medians).toFixed(2)} ms wall, ${median(cpu[name]).toFixed(2)} ms client CPU (rounds: ${medians.map((m) => m.toFixed(2)).join(', ')})`,
  );
}
