/**
 * The Kafka run log on kafkajs (the interface: kafka-run-log.ts): a single-partition keyed topic,
 * appended to with acks=all by an idempotent producer and read a range of offsets at a time.
 */
import { randomBytes } from 'node:crypto';
import kafkajs, { type Admin, type Consumer, type Kafka as KafkaClient, type Producer } from 'kafkajs';
import { TransientError } from '../errors.js';
import type { KafkaConnection } from './kafka.js';
import { createTopicsWithLeaders, kafkajsClient, translateKafkaError } from './kafka-kafkajs.js';
import { joinLockGroup } from './kafka-lock-group.js';
import type { KafkaRunLog, LockGroupMembership, LockGroupOptions, RunLogRecord } from './kafka-run-log.js';

const { CompressionTypes } = kafkajs;

/** KafkaRunLog on kafkajs: its admin client, a consumer per read, an idempotent producer, and lock groups (kafka-lock-group.ts). */
export class KafkajsRunLog implements KafkaRunLog {
  private producer: Promise<Producer> | undefined;
  private readonly consumers = new Set<Consumer>();

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
    // kafkajs reads only through a group: a throwaway one that never commits, deleted afterwards.
    const groupId = `migrate-state-reader-${randomBytes(6).toString('hex')}`;
    const consumer = this.client.consumer({
      groupId,
      maxWaitTimeInMs: 100,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      allowAutoTopicCreation: false,
      retry: { retries: 5, restartOnFailure: async () => false },
    });
    this.consumers.add(consumer);
    let position = from;
    try {
      await this.call(`read ${topic}`, async () => {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
      });
      await new Promise<void>((resolve, reject) => {
        // Every offset below `to` is either a record or was compacted away under a newer record of
        // the same key, which is also below `to`: the record at to-1 always arrives. A read that
        // stalls anyway (the broker unreachable) ends with a retriable error.
        const timer = setTimeout(
          () => reject(new TransientError(`reading ${topic} stalled at offset ${position} of ${to}: Kafka at ${this.brokers.join(',')} did not deliver`)),
          60_000,
        );
        const done = (err?: unknown) => {
          clearTimeout(timer);
          if (err) reject(translateKafkaError(`read ${topic}`, err, this.brokers));
          else resolve();
        };
        consumer.on(consumer.events.CRASH, (e) => done(e.payload.error));
        consumer
          .run({
            autoCommit: false,
            eachBatchAutoResolve: true,
            eachBatch: async ({ batch }) => {
              if (position >= to) return;
              for (const m of batch.messages) {
                const offset = Number(m.offset);
                if (offset < position) continue;
                if (offset >= to) break;
                onRecord({ offset, key: m.key ? m.key.toString('utf8') : null, value: m.value });
                position = offset + 1;
              }
              if (position >= to) done();
            },
          })
          .then(() => consumer.seek({ topic, partition: 0, offset: String(from) }), done);
      });
    } finally {
      this.consumers.delete(consumer);
      await consumer.disconnect().catch(() => undefined);
      await this.admin.deleteGroups([groupId]).catch(() => undefined);
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
