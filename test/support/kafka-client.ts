import kafkajs from 'kafkajs';
import { kafkaBrokers } from './kafka.js';

const { Kafka, logLevel } = kafkajs;

/** A kafkajs client of the test's own, to set up and read back the world independently of migrate. */
export function testKafka(): InstanceType<typeof Kafka> {
  return new Kafka({ clientId: 'migrate-tests', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
}

/**
 * A producer whose retries write nothing twice. kafkajs retries a whole produce request when any
 * partition in it fails (a new topic's leader not ready yet, under load): the partitions that had
 * succeeded were written again, and a backlog of 8 read as 11. The idempotent producer's sequence
 * numbers make the broker drop those repeats.
 */
export function exactProducer(kafka: InstanceType<typeof Kafka> = testKafka()): ReturnType<InstanceType<typeof Kafka>['producer']> {
  return kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
}

/** Partition counts of the topics that exist, read through Kafka's admin API. */
export async function topicPartitions(names: string[]): Promise<Record<string, number>> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = names.filter((n) => existing.has(n));
    const meta = present.length ? await admin.fetchTopicMetadata({ topics: present }) : { topics: [] };
    return Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.length]));
  } finally {
    await admin.disconnect();
  }
}

/** Creates a topic and writes `counts[p]` messages to each partition p. */
export async function topicWithBacklog(topic: string, counts: number[]): Promise<void> {
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: counts.length, replicationFactor: 1 }] });
  await admin.disconnect();
  const producer = exactProducer(kafka);
  await producer.connect();
  const messages = counts.flatMap((n, partition) => Array.from({ length: n }, (_, i) => ({ partition, key: `k${i}`, value: `v${i}` })));
  for (let i = 0; i < messages.length; i += 500) await producer.send({ topic, messages: messages.slice(i, i + 500) });
  await producer.disconnect();
}

/** The ids of the consumer groups the cluster lists (kafkajs's ListGroups). */
export async function groupIds(): Promise<string[]> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    return (await admin.listGroups()).groups.map((g) => g.groupId);
  } finally {
    await admin.disconnect();
  }
}
