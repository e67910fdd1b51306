/**
 * The Kafka run log on kafkajs (the interface: kafka-run-log.ts): a single-partition keyed topic,
 * appended to with acks=all by an idempotent producer and read a range of offsets at a time with
 * Fetch requests to its leader (kafka-reader.ts), without a consumer group.
 */
import kafkajs, { type Admin, type Consumer, type Kafka as KafkaClient, type Producer } from 'kafkajs';
import { TransientError } from '../errors.js';
import type { KafkaConnection, TopicReader } from './kafka.js';
import { createTopicsWithLeaders, kafkajsClient, translateKafkaError } from './kafka-kafkajs.js';
import { joinLockGroup } from './kafka-lock-group.js';
import { startTopicReader } from './kafka-reader.js';
import { forEachRecord, nextFetchOffset } from './kafka-records.js';
import type { KafkaRunLog, LockGroupMembership, LockGroupOptions, RunLogRecord } from './kafka-run-log.js';

const { CompressionTypes } = kafkajs;

/** KafkaRunLog on kafkajs: its admin client, the direct partition reader (no group), an idempotent producer, and lock groups (kafka-lock-group.ts). */
export class KafkajsRunLog implements KafkaRunLog {
  private producer: Promise<Producer> | undefined;
  private readonly consumers = new Set<Consumer>();
  private readonly readers = new Set<TopicReader>();

  private constructor(
    private readonly client: KafkaClient,
    private readonly admin: Admin,
    private readonly brokers: string[],
  ) {}

  static async connect(connection: KafkaConnection): Promise<KafkajsRunLog> {
    const client = kafkajsClient(connection);
    const admin = client.admin();
    try {
      await admin.connect();
    } catch (err) {
      throw translateKafkaError('connect to Kafka', err, connection.brokers);
    }
    return new KafkajsRunLog(client, admin, connection.brokers);
  }

  async ensureTopic(topic: string, configs: Record<string, string>): Promise<void> {
    if ((await this.partitions(topic)) !== undefined) return;
    const cluster = await this.call('describe the cluster', () => this.admin.describeCluster());
    const replicationFactor = Math.min(3, Math.max(1, cluster.brokers.length));
    // With three replicas a write needs two of them; with fewer, one (a single-broker cluster).
    const minInsync = String(Math.max(1, replicationFactor - 1));
    await this.call(`create topic ${topic}`, () =>
      createTopicsWithLeaders(this.client, this.admin, [
        {
          topic,
          numPartitions: 1,
          replicationFactor,
          configEntries: Object.entries({ 'min.insync.replicas': minInsync, ...configs }).map(([name, value]) => ({ name, value })),
        },
      ]),
    ); // false when another process created it first: just as good
  }

  async partitions(topic: string): Promise<number | undefined> {
    const topics = await this.call('list topics', () => this.admin.listTopics());
    if (!topics.includes(topic)) return undefined;
    const meta = await this.call(`describe topic ${topic}`, () => this.admin.fetchTopicMetadata({ topics: [topic] }));
    return meta.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
  }

  async offsets(topic: string): Promise<{ start: number; end: number }> {
    const all = await this.call(`read offsets of ${topic}`, () => this.admin.fetchTopicOffsets(topic));
    const p0 = all.find((p) => p.partition === 0);
    if (!p0) throw new Error(`topic ${topic} has no partition 0`);
    return { start: Number(p0.low), end: Number(p0.high) };
  }

  async read(topic: string, from: number, to: number, onRecord: (r: RunLogRecord) => void): Promise<void> {
    if (from >= to) return;
    // Fetch requests straight to partition 0's leader (kafka-reader.ts, as kafka.verify reads): no
    // group to join, so no group.initial.rebalance.delay.ms to wait out, and no group to delete.
    let position = from;
    let finish: (err?: unknown) => void = () => undefined;
    const finished = new Promise<void>((resolve, reject) => {
      finish = (err) => (err ? reject(err) : resolve());
    });
    const reader = await startTopicReader(
      this.client,
      topic,
      { 0: from },
      (chunk) => {
        if (position >= to) return;
        forEachRecord(chunk.partition, chunk.records, chunk.from, chunk.aborted, (r) => {
          if (r.offset < position || r.offset >= to) return;
          onRecord({ offset: r.offset, key: r.key ? r.key.toString('utf8') : null, value: r.value ? Buffer.from(r.value) : null });
          position = r.offset + 1;
        });
        // Compaction leaves gaps: the batches' last offsets, not the records', say how far the log was read.
        position = Math.max(position, Math.min(to, nextFetchOffset(chunk.records, chunk.from)));
        if (position >= to) finish();
      },
      (what, err) => translateKafkaError(what, err, this.brokers),
    );
    this.readers.add(reader);
    // Every offset below `to` is either a record or was compacted away under a newer record of the
    // same key, also below `to`. A read that stalls anyway (the broker unreachable) ends with a
    // retriable error; one the reader cannot go on from ends with its failure.
    const started = Date.now();
    const watch = setInterval(() => {
      const failure = reader.failure?.();
      if (failure) finish(failure);
      else if (Date.now() - started > 60_000) {
        finish(new TransientError(`reading ${topic} stalled at offset ${position} of ${to}: Kafka at ${this.brokers.join(',')} did not deliver`));
      }
    }, 50);
    try {
      await finished;
    } finally {
      clearInterval(watch);
      this.readers.delete(reader);
      await reader.close();
    }
  }

  async append(topic: string, key: string, value: Buffer | null): Promise<number> {
    const producer = await this.connectProducer();
    const res = await this.call(`write to ${topic}`, () =>
      producer.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: [{ partition: 0, key, value }] }),
    );
    const meta = res.find((r) => r.partition === 0);
    if (!meta || meta.errorCode !== 0) throw new Error(`cannot write to ${topic}: the broker answered with error code ${meta?.errorCode ?? 'none'}`);
    return Number(meta.baseOffset);
  }

  joinLockGroup(o: LockGroupOptions): Promise<LockGroupMembership> {
    return joinLockGroup({ client: this.client, admin: this.admin, brokers: this.brokers, consumers: this.consumers }, o);
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.disconnect().catch(() => undefined)));
    this.consumers.clear();
    await Promise.all([...this.readers].map((r) => r.close().catch(() => undefined)));
    this.readers.clear();
    const producer = this.producer;
    this.producer = undefined;
    await producer?.then((p) => p.disconnect()).catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }

  private connectProducer(): Promise<Producer> {
    this.producer ??= (async () => {
      // Idempotent (kafkajs 2.2 and Kafka 4.1 agree on InitProducerId): a retried send is written
      // once, and one request in flight keeps writes in order. Retries ride out a leader move or a
      // broker restart of a few seconds.
      const producer = this.client.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 3000 },
      });
      await this.call('connect a producer', () => producer.connect());
      return producer;
    })().catch((err: unknown) => {
      this.producer = undefined;
      throw err;
    });
    return this.producer;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translateKafkaError(what, err, this.brokers);
    }
  }
}
