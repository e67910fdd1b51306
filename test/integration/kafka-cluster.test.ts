// Topic creation on a real 3-node KRaft cluster of the broker version under test (brokerVersion():
// 4.1 by default, 3.9 under `npm run test:kafka-3.9`). On a cluster, the broker that forwards a
// CreateTopics to the controller may not yet have the new topic in its metadata when it answers:
// Kafka 3.9 then says UNKNOWN_TOPIC_OR_PARTITION to kafkajs's waitForLeaders, which gives up
// (seen on 18 of 30 creations on 3.9.2, none on 4.1.2). kafka.topic and the Kafka run store create
// topics; each creation must return once the topic has its leaders, whichever broker answers.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaCluster, type KafkaClusterHandle } from '../../scripts/kafka-lib.mjs';
import { connectKafka, connectRunLog } from '../../src/adapters/kafka-connect.js';
import { unique } from '../support/cli.js';
import { brokerVersion } from '../support/kafka.js';

const TOPICS = 12;

let cluster: KafkaClusterHandle;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'migrate-kafka-cluster-'));
  cluster = await startKafkaCluster({ dataDir, nodes: 3, version: brokerVersion() });
});

afterAll(async () => {
  await cluster?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe(`topics created on a 3-node Kafka ${brokerVersion()} cluster`, () => {
  it(`kafka.topic's createTopic returns once each of ${TOPICS} topics has leaders on every partition`, async () => {
    const kafka = await connectKafka({ brokers: cluster.brokers.split(','), clientId: 'migrate-tests' });
    try {
      const prefix = unique('cluster-topic');
      for (let i = 0; i < TOPICS; i++) {
        const name = `${prefix}-${i}`;
        expect(await kafka.createTopic({ name, partitions: 2, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } })).toBe(true);
        expect(await kafka.describeTopic(name, ['min.insync.replicas'])).toEqual({ name, partitions: 2, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } });
      }
    } finally {
      await kafka.close();
    }
  });

  it(`the Kafka run store's ensureTopic creates its topics with 3 replicas, ready to take a write`, async () => {
    const log = await connectRunLog({ brokers: cluster.brokers.split(','), clientId: 'migrate-tests' });
    try {
      const prefix = unique('cluster-state');
      for (let i = 0; i < TOPICS / 2; i++) {
        const topic = `${prefix}-${i}`;
        await log.ensureTopic(topic, { 'cleanup.policy': 'compact' });
        expect(await log.partitions(topic)).toBe(1);
        expect(await log.append(topic, 'run', Buffer.from('{}'))).toBe(0);
      }
    } finally {
      await log.close();
    }
  });
});
