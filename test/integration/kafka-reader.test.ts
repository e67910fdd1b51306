import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { connectKafka } from '../../src/adapters/kafka-connect.js';
import { unique } from '../support/cli.js';
import { kafkaBrokers } from '../support/kafka.js';
import { testKafka } from '../support/kafka-client.js';

describe('readTopic (Fetch without a group, our record decoding) against a real broker', () => {
  it('starts mid-batch, reads gzip batches, drops aborted transactions and control records', async () => {
    const kafka = testKafka();
    const topic = unique('reader');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 1 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'plain-0' }, { value: 'plain-1' }] });
    await producer.send({ topic, compression: kafkajs.CompressionTypes.GZIP, messages: [{ key: 'k', value: 'gz-2' }, { value: 'gz-3' }, { value: 'gz-4' }] });
    const tx = kafka.producer({ transactionalId: unique('tx'), maxInFlightRequests: 1, idempotent: true });
    await tx.connect();
    const aborted = await tx.transaction();
    await aborted.send({ topic, messages: [{ value: 'aborted-a' }, { value: 'aborted-b' }] });
    await aborted.abort();
    const committed = await tx.transaction();
    await committed.send({ topic, messages: [{ value: 'committed-c' }] });
    await committed.commit();
    await producer.send({ topic, messages: [{ value: 'plain-last' }] });
    await Promise.all([tx.disconnect(), producer.disconnect(), admin.disconnect()]);

    const reader = await connectKafka({ brokers: kafkaBrokers(), clientId: 'reader-test' });
    const got: string[] = [];
    const offsets: number[] = [];
    // Offsets 0-1 plain, 2-4 one gzip batch (read from its middle), then the transactions' records and markers.
    const read = await reader.readTopic(topic, { 0: 3 }, (r) => {
      got.push(r.value?.toString() ?? '');
      offsets.push(r.offset);
    });
    const deadline = Date.now() + 15_000;
    while (got.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // The commit marker may land after the last record: wait for the reader to pass the log end.
    let end = (await reader.topicOffsets(topic))[0]?.logEnd;
    while (read.position()[0] !== end && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      end = (await reader.topicOffsets(topic))[0]?.logEnd;
    }
    await read.close();
    await reader.close();
    expect(got).toEqual(['gz-3', 'gz-4', 'committed-c', 'plain-last']);
    expect(offsets.slice(0, 2)).toEqual([3, 4]);
    expect(offsets[2]).toBeGreaterThan(6); // after the two aborted records and their marker
    expect(read.position()).toEqual({ 0: end });
    expect(read.failure?.()).toBeUndefined();
  });
});
