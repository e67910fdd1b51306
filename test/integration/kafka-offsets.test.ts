// The lag poll's reads (kafka-offsets.ts, kafka-offset-requests.ts): log offsets by migrate's own
// ListOffsets and committed offsets of several groups in one OffsetFetch, on the tests' real broker,
// checked against the same offsets read through kafkajs's admin.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KafkaCluster } from '../../src/adapters/kafka.js';
import { connectKafka } from '../../src/adapters/kafka-connect.js';
import { unique } from '../support/cli.js';
import { kafkaBrokers } from '../support/kafka.js';
import { testKafka, topicWithBacklog } from '../support/kafka-client.js';

const backlog = [3, 5, 0, 2];
let kafka: KafkaCluster;
beforeAll(async () => {
  kafka = await connectKafka({ brokers: kafkaBrokers(), clientId: 'migrate-tests' });
});
afterAll(async () => {
  await kafka?.close();
});

describe('groupsOffsets', () => {
  it('reads the committed offsets of several groups at once, each as groupOffsets reads it, beside the log end kafkajs reads', async () => {
    const topic = unique('offsets');
    await topicWithBacklog(topic, backlog);
    const [drained, partly, never] = [unique('drained'), unique('partly'), unique('never')];
    const admin = testKafka().admin();
    await admin.connect();
    try {
      await admin.setOffsets({ groupId: drained, topic, partitions: backlog.map((n, partition) => ({ partition, offset: String(n) })) });
      await admin.setOffsets({ groupId: partly, topic, partitions: [{ partition: 0, offset: '1' }, { partition: 1, offset: '5' }] });
      const ends = await admin.fetchTopicOffsets(topic);

      const byGroup = await kafka.groupsOffsets([drained, partly, never], topic);

      expect([...byGroup.keys()]).toEqual([drained, partly, never]);
      const committed = (g: string) => byGroup.get(g)?.map((o) => o.committed);
      expect(committed(drained)).toEqual(backlog);
      expect(committed(partly)).toEqual([1, 5, null, null]);
      expect(committed(never)).toEqual([null, null, null, null]);
      for (const offsets of byGroup.values()) {
        expect(offsets.map((o) => o.partition)).toEqual([0, 1, 2, 3]);
        expect(offsets.map((o) => o.logEnd)).toEqual(ends.sort((a, b) => a.partition - b.partition).map((e) => Number(e.high)));
        expect(offsets.map((o) => o.logStart)).toEqual([0, 0, 0, 0]);
        expect(offsets.map((o) => o.lastStable)).toEqual(backlog);
      }
      // One group alone reads the same as in company.
      expect(await kafka.groupOffsets(partly, topic)).toEqual(byGroup.get(partly));
      // What kafkajs's admin reads as the committed offsets of the partly consumed group.
      const [theirs] = await admin.fetchOffsets({ groupId: partly, topics: [topic] });
      expect(theirs?.partitions.sort((a, b) => a.partition - b.partition).map((p) => (Number(p.offset) < 0 ? null : Number(p.offset)))).toEqual(committed(partly));
    } finally {
      await admin.disconnect();
    }
  });

  it('fails for a topic that does not exist, naming it', async () => {
    const topic = unique('absent');
    await expect(kafka.groupsOffsets([unique('g'), unique('g')], topic)).rejects.toThrow(topic);
  });
});
