/**
 * The Kafka side of the shared run store: a single-partition keyed topic (append with acks=all,
 * read a range of offsets) and run locks held as consumer-group membership. The interfaces below
 * are all src/state/kafka-store.ts sees; the kafkajs code behind them loads only when a store
 * connects (`connectStateLog`).
 */
import { randomBytes } from 'node:crypto';
import kafkajs, { type Admin, type Consumer, type GroupMember, type Kafka as KafkaClient, type PartitionAssigner, type Producer } from 'kafkajs';
import { TransientError } from '../errors.js';
import type { KafkaConnection } from './kafka.js';
import { createTopicsWithLeaders, kafkajsClient, translateKafkaError } from './kafka-kafkajs.js';

const { AssignerProtocol, CompressionTypes } = kafkajs;

/** One record of partition 0 of a state topic. A null value is a tombstone. */
export interface StateRecord {
  offset: number;
  key: string | null;
  value: Buffer | null;
}

/** Who holds (or waits for) a run lock, as its member metadata in the lock group says. */
export interface LockMemberInfo {
  pid: number;
  host: string;
  startedAt: string;
}

/** How to join a run's lock group. */
export interface LockGroupOptions {
  group: string;
  /** The single-partition topic whose partition 0 is the lock. */
  topic: string;
  /** Advertised in this member's metadata, so a process that is refused can name the holder. */
  member: LockMemberInfo;
  sessionTimeoutMs: number;
  /** After every join of the group: whether this member was given the lock partition, and its member id. */
  onJoin(holds: boolean, memberId: string): void;
  /** After every heartbeat the group coordinator accepted: this member is still in the group. */
  onHeartbeat(): void;
  /** The client lost its membership (it rejoins by itself; a holder cannot vouch for the time between). */
  onCrash(error: Error): void;
}

/** This process's membership in a run's lock group. */
export interface LockGroupMembership {
  /** The member the coordinator says holds the lock partition now; undefined when nobody does. */
  holder(): Promise<LockMemberInfo | undefined>;
  /** Leaves the group: a holder thereby hands the lock to the next waiter at once. */
  leave(): Promise<void>;
}

/** What the shared run store needs from Kafka. */
export interface StateLog {
  /** Creates the topic (1 partition, replication factor min(3, brokers)) unless it exists. */
  ensureTopic(topic: string, configs: Record<string, string>): Promise<void>;
  /** Partition count of the topic, or undefined when it does not exist. */
  partitions(topic: string): Promise<number | undefined>;
  /** Log start and end offsets of partition 0 (end: the offset the next record will get). */
  offsets(topic: string): Promise<{ start: number; end: number }>;
  /** Hands over the records of partition 0 with offsets in [from, to), in order. */
  read(topic: string, from: number, to: number, onRecord: (r: StateRecord) => void): Promise<void>;
  /** Appends to partition 0 and resolves with the record's offset once all in-sync replicas have it. */
  append(topic: string, key: string, value: Buffer | null): Promise<number>;
  /** Joins a run's lock group; resolves once the member has started joining (see `onJoin`). */
  joinLockGroup(o: LockGroupOptions): Promise<LockGroupMembership>;
  close(): Promise<void>;
}

/** Connects the state log through kafkajs. */
export async function connectStateLog(connection: KafkaConnection): Promise<StateLog> {
  const client = kafkajsClient(connection);
  const admin = client.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw translateKafkaError('connect to Kafka', err, connection.brokers);
  }
  return new KafkajsStateLog(client, admin, connection.brokers);
}

/** The name under which lock members advertise themselves; a member speaking another protocol cannot join. */
const LOCK_PROTOCOL = 'MigrateRunLock';
const LOCK_PROTOCOL_VERSION = 1;

/** What a lock member puts in its metadata: who it is, and whether (and as which member) it holds the lock. */
interface LockMetadata extends LockMemberInfo {
  /** The member id under which this process was given the lock; absent while it waits. */
  heldAs?: string;
}

class KafkajsStateLog implements StateLog {
  private producer: Promise<Producer> | undefined;
  private readonly consumers = new Set<Consumer>();

  constructor(
    private readonly client: KafkaClient,
    private readonly admin: Admin,
    private readonly brokers: string[],
  ) {}

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

  async read(topic: string, from: number, to: number, onRecord: (r: StateRecord) => void): Promise<void> {
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

  async joinLockGroup(o: LockGroupOptions): Promise<LockGroupMembership> {
    const self: LockMetadata = { ...o.member };
    let left = false;
    let current: Consumer | undefined;
    let rejoinTimer: NodeJS.Timeout | undefined;

    const start = async (): Promise<void> => {
      const consumer = this.client.consumer({
        groupId: o.group,
        partitionAssigners: [lockAssigner(o.topic, self)],
        sessionTimeout: o.sessionTimeoutMs,
        // A holder must rejoin a rebalance within this; it learns of one at its next heartbeat.
        rebalanceTimeout: o.sessionTimeoutMs,
        heartbeatInterval: Math.max(300, Math.floor(o.sessionTimeoutMs / 6)),
        maxWaitTimeInMs: 250,
        allowAutoTopicCreation: false,
        // kafkajs's own restart can fire after disconnect() and keep a process alive: we rejoin ourselves.
        retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 2000, restartOnFailure: async () => false },
      });
      current = consumer;
      this.consumers.add(consumer);
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        const holds = (e.payload.memberAssignment[o.topic] ?? []).includes(0);
        if (holds) self.heldAs = e.payload.memberId;
        else delete self.heldAs;
        o.onJoin(holds, e.payload.memberId);
      });
      consumer.on(consumer.events.HEARTBEAT, () => o.onHeartbeat());
      consumer.on(consumer.events.CRASH, (e) => {
        // The client has left the group by now (a broker restarting, say): join again as a new member.
        this.consumers.delete(consumer);
        o.onCrash(e.payload.error);
        rejoinLater();
      });
      try {
        await consumer.connect();
        await consumer.subscribe({ topic: o.topic, fromBeginning: false });
        // Nothing is ever written to the lock topic: holding its partition is the point.
        await consumer.run({ autoCommit: false, eachBatch: async () => undefined });
      } catch (err) {
        this.consumers.delete(consumer);
        await consumer.disconnect().catch(() => undefined);
        throw translateKafkaError(`join lock group ${o.group}`, err, this.brokers);
      }
    };
    const rejoinLater = (): void => {
      if (left || rejoinTimer) return;
      rejoinTimer = setTimeout(() => {
        rejoinTimer = undefined;
        if (!left) start().catch(rejoinLater);
      }, 1000);
    };

    await start();
    return {
      holder: () => this.lockHolder(o.group, o.topic),
      leave: async () => {
        if (left) return;
        left = true;
        clearTimeout(rejoinTimer);
        const consumer = current;
        if (consumer) {
          this.consumers.delete(consumer);
          await consumer.disconnect().catch(() => undefined);
        }
        // Tidy: an empty lock group would linger until the broker's cleanup. Refused while a waiter is in it.
        await this.admin.deleteGroups([o.group]).catch(() => undefined);
      },
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.disconnect().catch(() => undefined)));
    this.consumers.clear();
    const producer = this.producer;
    this.producer = undefined;
    await producer?.then((p) => p.disconnect()).catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }

  private async lockHolder(group: string, topic: string): Promise<LockMemberInfo | undefined> {
    const res = await this.call(`describe group ${group}`, () => this.admin.describeGroups([group]));
    for (const m of res.groups.find((g) => g.groupId === group)?.members ?? []) {
      const assignment = m.memberAssignment?.length ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
      if (!assignment?.assignment[topic]?.includes(0)) continue;
      const meta = decodeLockMetadata(m.memberMetadata);
      return meta ? { pid: meta.pid, host: meta.host, startedAt: meta.startedAt } : { pid: 0, host: m.clientHost, startedAt: 'unknown' };
    }
    return undefined;
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

/**
 * The lock's partition assignment, run by whichever member the coordinator made leader. The
 * partition stays with the member that holds it (a rebalance caused by a joiner never moves it);
 * only when nobody holds it does it go to the member that has waited longest.
 */
function lockAssigner(topic: string, self: LockMetadata): PartitionAssigner {
  return () => ({
    name: LOCK_PROTOCOL,
    version: LOCK_PROTOCOL_VERSION,
    protocol: ({ topics }) => ({
      name: LOCK_PROTOCOL,
      metadata: AssignerProtocol.MemberMetadata.encode({ version: LOCK_PROTOCOL_VERSION, topics, userData: Buffer.from(JSON.stringify(self)) }),
    }),
    assign: async ({ members }) => {
      const chosen = chooseLockHolder(members.map((m) => ({ memberId: m.memberId, meta: decodeLockMetadata(m.memberMetadata) })));
      return members.map((m: GroupMember) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: LOCK_PROTOCOL_VERSION,
          assignment: m.memberId === chosen ? { [topic]: [0] } : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
  });
}

/**
 * The member that gets the lock: the one holding it, if its claim is current (it was given the lock
 * under the member id it still has: a member evicted and rejoining under a new id claims nothing),
 * else the one waiting longest (earliest startedAt), ties broken by member id.
 */
export function chooseLockHolder(members: { memberId: string; meta: LockMetadata | undefined }[]): string | undefined {
  const holder = members.find((m) => m.meta?.heldAs !== undefined && m.meta.heldAs === m.memberId);
  if (holder) return holder.memberId;
  const queue = [...members].sort(
    (a, b) => (a.meta?.startedAt ?? '\uffff').localeCompare(b.meta?.startedAt ?? '\uffff') || a.memberId.localeCompare(b.memberId),
  );
  return queue[0]?.memberId;
}

function decodeLockMetadata(buffer: Buffer | undefined): LockMetadata | undefined {
  if (!buffer?.length) return undefined;
  try {
    const decoded = AssignerProtocol.MemberMetadata.decode(buffer);
    const meta = JSON.parse(decoded?.userData?.toString('utf8') ?? '') as Partial<LockMetadata>;
    if (typeof meta.pid !== 'number' || typeof meta.host !== 'string' || typeof meta.startedAt !== 'string') return undefined;
    return { pid: meta.pid, host: meta.host, startedAt: meta.startedAt, ...(typeof meta.heldAs === 'string' ? { heldAs: meta.heldAs } : {}) };
  } catch {
    return undefined; // a member of another kind: it can hold nothing
  }
}
