import { readFileSync } from 'node:fs';
import kafkajs, { type Admin, type ITopicConfig, type Kafka as KafkaClient, type SASLOptions } from 'kafkajs';
import { TransientError } from '../errors.js';
import { sleep } from '../util/time.js';
import type {
  ClusterDescription,
  GroupDescription,
  KafkaCluster,
  KafkaConnection,
  KafkaRecord,
  PartitionOffsets,
  RecordChunk,
  TopicDescription,
  TopicReader,
  TopicSpec,
} from './kafka.js';
import { describeAnyGroup, UnjudgedGroupTypeError } from './kafka-groups.js';
import { fixRequestQueueIdleLoop, kafkajsInternals, OwnCluster } from './kafka-internals.js';
import { CommittedOffsetsReader, LogOffsetsReader } from './kafka-offsets.js';
import { startTopicReader } from './kafka-reader.js';
import { forEachRecord } from './kafka-records.js';

const { Kafka, logLevel, ConfigResourceTypes, AssignerProtocol } = kafkajs;

/**
 * Creates the topics and resolves once every broker of the cluster reports a leader for every
 * partition of each; false when they existed already. Not kafkajs's `waitForLeaders`: that asks
 * only the broker which took the CreateTopics, and gives up when it does not know the topic yet.
 * On a Kafka 3.9 cluster each broker learns of a new topic from the controller a moment later,
 * and answers UNKNOWN_TOPIC_OR_PARTITION until then (measured on a 3-node 3.9.2 cluster: kafkajs's
 * wait failed on 18 creations of 30, and a describe right after a successful wait, sent to
 * another broker, could still fail; 4.1.2 showed neither). Waiting for every broker means the
 * next request sees the topic, whichever broker it goes to.
 */
export async function createTopicsWithLeaders(client: KafkaClient, admin: Admin, topics: ITopicConfig[], timeoutMs = 30_000): Promise<boolean> {
  const created = await admin.createTopics({ waitForLeaders: false, topics });
  const names = topics.map((t) => t.topic);
  const cluster = kafkajsInternals().createCluster(client);
  const deadline = Date.now() + timeoutMs;
  try {
    await cluster.connect();
    await cluster.refreshMetadata();
    const pending = new Set(Object.keys(cluster.brokerPool.brokers));
    for (;;) {
      for (const nodeId of [...pending]) {
        try {
          const broker = await cluster.findBroker({ nodeId });
          const meta = await broker.metadata(names);
          const ready = names.every((name) => {
            const partitions = meta.topicMetadata.find((t) => t.topic === name)?.partitionMetadata ?? [];
            return partitions.length > 0 && partitions.every((p) => p.leader >= 0);
          });
          if (ready) pending.delete(nodeId);
        } catch (err) {
          const type = (err as { type?: string }).type;
          if (type !== 'UNKNOWN_TOPIC_OR_PARTITION' && type !== 'LEADER_NOT_AVAILABLE') throw err;
        }
      }
      if (pending.size === 0) return created;
      if (Date.now() > deadline) {
        throw new Error(`broker ${[...pending].join(', ')} had no leader for every partition of ${names.join(', ')} within ${timeoutMs / 1000} s of its creation`);
      }
      await sleep(100);
    }
  } finally {
    await cluster.disconnect().catch(() => undefined);
  }
}

/** Builds a kafkajs client that logs nothing to the terminal and leaves retries to the engine. */
export function kafkajsClient(c: KafkaConnection): KafkaClient {
  fixRequestQueueIdleLoop();
  return new Kafka({
    clientId: c.clientId,
    brokers: c.brokers,
    ssl: tlsOptions(c.ssl),
    sasl: c.sasl as SASLOptions | undefined,
    connectionTimeout: c.connectionTimeoutMs ?? 3000,
    requestTimeout: c.requestTimeoutMs ?? 10000,
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 2000 },
  });
}

/** The connection's ssl setting as kafkajs takes it: a CA path becomes the PEM it holds (read now, at connect). */
function tlsOptions(ssl: KafkaConnection['ssl']): boolean | { ca?: string; rejectUnauthorized?: boolean } | undefined {
  if (typeof ssl !== 'object' || !ssl.ca) return ssl;
  try {
    return { ...ssl, ca: readFileSync(ssl.ca, 'utf8') };
  } catch (err) {
    throw new Error(`cannot read the CA file ${ssl.ca} (KAFKA_SSL_CA): ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

/** KafkaCluster on kafkajs: its admin client, its client's fetches (readTopic), and requests of our own. */
export class KafkajsCluster implements KafkaCluster {
  /** Connections of our own for the requests kafkajs's admin lacks (log offsets, group descriptions), kept for this connection's life. */
  private readonly own: OwnCluster;
  /** High watermarks and last stable offsets. */
  private readonly logOffsets: LogOffsetsReader;
  /** Committed offsets of groups, several groups per request. */
  private readonly committed: CommittedOffsetsReader;

  private constructor(
    private readonly client: KafkaClient,
    private readonly admin: Admin,
    private readonly brokers: string[],
  ) {
    this.own = new OwnCluster(client);
    this.logOffsets = new LogOffsetsReader(this.own);
    this.committed = new CommittedOffsetsReader(this.own);
  }

  static async connect(c: KafkaConnection): Promise<KafkajsCluster> {
    const client = kafkajsClient(c);
    const admin = client.admin();
    const self = new KafkajsCluster(client, admin, c.brokers);
    try {
      await admin.connect();
      // kafkajs connects without learning the cluster's brokers; its first group call (offsets,
      // describe) then finds "no brokers in the broker pool", refreshes and retries after its
      // 300 ms backoff. One cheap metadata request (no topics) here saves that on every run.
      await admin.describeCluster();
    } catch (err) {
      throw translateKafkaError('connect', err, c.brokers, c);
    }
    return self;
  }

  async describeCluster(): Promise<ClusterDescription> {
    const c = await this.call('describe the cluster', () => this.admin.describeCluster());
    return {
      clusterId: c.clusterId,
      controller: c.controller ?? null,
      brokers: c.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })).sort((x, y) => x.nodeId - y.nodeId),
    };
  }

  async listTopics(): Promise<string[]> {
    return (await this.call('list topics', () => this.admin.listTopics())).sort();
  }

  async deleteTopic(name: string): Promise<boolean> {
    try {
      await this.admin.deleteTopics({ topics: [name] });
      return true;
    } catch (err) {
      if ((err as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') return false;
      throw translateKafkaError(`delete topic ${name}`, err, this.brokers);
    }
  }

  async describeTopic(name: string, configNames: string[]): Promise<TopicDescription | undefined> {
    const topics = await this.call('list topics', () => this.admin.listTopics());
    if (!topics.includes(name)) return undefined;
    const meta = await this.call(`describe topic ${name}`, () => this.admin.fetchTopicMetadata({ topics: [name] }));
    const topic = meta.topics.find((t) => t.name === name);
    if (!topic) return undefined;
    const configs: Record<string, string> = {};
    if (configNames.length) {
      const res = await this.call(`describe configs of ${name}`, () =>
        this.admin.describeConfigs({
          resources: [{ type: ConfigResourceTypes.TOPIC, name, configNames }],
          includeSynonyms: false,
        }),
      );
      for (const entry of res.resources[0]?.configEntries ?? []) configs[entry.configName] = entry.configValue;
    }
    return {
      name,
      partitions: topic.partitions.length,
      replicationFactor: Math.max(0, ...topic.partitions.map((p) => p.replicas.length)),
      configs,
    };
  }

  async createTopic(spec: TopicSpec): Promise<boolean> {
    return this.call(`create topic ${spec.name}`, () =>
      createTopicsWithLeaders(this.client, this.admin, [
        {
          topic: spec.name,
          numPartitions: spec.partitions,
          replicationFactor: spec.replicationFactor,
          configEntries: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
        },
      ]),
    );
  }

  async groupOffsets(group: string, topic: string): Promise<PartitionOffsets[]> {
    return (await this.groupsOffsets([group], topic)).get(group) as PartitionOffsets[];
  }

  async groupsOffsets(groups: readonly string[], topic: string): Promise<Map<string, PartitionOffsets[]>> {
    const whose = groups.length === 1 ? `group ${groups[0]}` : `groups ${groups.join(', ')}`;
    // Both calls settle before either error is thrown: a call left in flight (kafkajs retrying the
    // metadata of a missing topic) reconnects after close() and keeps the process alive.
    const [endsResult, committedResult] = await Promise.allSettled([
      this.call(`read offsets of ${topic}`, () => this.logOffsets.read(topic)),
      this.call(`read offsets of ${whose} on ${topic}`, () => this.committedOffsets(groups, topic)),
    ]);
    if (committedResult.status === 'rejected') throw committedResult.reason;
    if (endsResult.status === 'rejected') throw endsResult.reason;
    const [ends, committed] = [endsResult.value, committedResult.value];
    return new Map(groups.map((g) => [g, ends.map((e) => ({ ...e, committed: committed.get(g)?.get(e.partition) ?? null }))]));
  }

  /** group -> partition -> committed offset: one OffsetFetch per coordinator, or kafkajs's one group at a time where the broker is older than Kafka 3.0. */
  private async committedOffsets(groups: readonly string[], topic: string): Promise<Map<string, Map<number, number>>> {
    const batched = await this.committed.read(groups, topic);
    if (batched) return batched;
    const each = await Promise.all(
      groups.map(async (groupId) => {
        const committed = new Map<number, number>();
        for (const p of (await this.admin.fetchOffsets({ groupId, topics: [topic] })).find((t) => t.topic === topic)?.partitions ?? []) {
          const n = Number(p.offset);
          if (n >= 0) committed.set(p.partition, n);
        }
        return [groupId, committed] as const;
      }),
    );
    return new Map(each);
  }

  async topicOffsets(topic: string): Promise<PartitionOffsets[]> {
    const ends = await this.call(`read offsets of ${topic}`, () => this.logOffsets.read(topic));
    return ends.map((e) => ({ ...e, committed: null }));
  }

  async describeGroup(group: string): Promise<GroupDescription> {
    return this.call(`describe group ${group}`, async () => {
      // ConsumerGroupDescribe and ListGroups go through our own cluster (kafka-groups.ts).
      return describeAnyGroup(await this.own.connected(), group, () => this.describeClassicGroup(group));
    });
  }

  /** The group as the classic DescribeGroups (kafkajs's) reports it. */
  private async describeClassicGroup(group: string): Promise<GroupDescription> {
    const res = await this.admin.describeGroups([group]);
    const g = res.groups.find((x) => x.groupId === group);
    if (!g) return { group, type: 'classic', state: 'Dead', members: [] };
    return {
      group,
      type: 'classic',
      state: g.state,
      members: g.members.map((m) => {
        const decoded = m.memberAssignment?.length ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
        return { memberId: m.memberId, clientId: m.clientId, host: m.clientHost, assignment: decoded?.assignment ?? {} };
      }),
    };
  }

  async deleteGroup(group: string): Promise<boolean> {
    try {
      await this.admin.deleteGroups([group]);
      return true;
    } catch (err) {
      const groups = (err as { groups?: { errorCode?: number; error?: { type?: string } }[] }).groups;
      if (groups?.every((g) => g.error?.type === 'GROUP_ID_NOT_FOUND')) return false;
      if (groups?.some((g) => g.error?.type === 'NON_EMPTY_GROUP')) {
        throw new Error(`cannot delete group ${group}: it still has members`, { cause: err });
      }
      throw translateKafkaError(`delete group ${group}`, err, this.brokers);
    }
  }

  async readTopic(topic: string, from: Record<number, number>, onRecord: (r: KafkaRecord) => void): Promise<TopicReader> {
    return this.readTopicChunks(topic, from, (c) => forEachRecord(c.partition, c.records, c.from, c.aborted, onRecord));
  }

  async readTopicChunks(topic: string, from: Record<number, number>, onChunk: (chunk: RecordChunk) => void | Promise<void>): Promise<TopicReader> {
    return startTopicReader(this.client, topic, from, onChunk, (what, err) => translateKafkaError(what, err, this.brokers));
  }

  async close(): Promise<void> {
    await Promise.all([
      this.admin.disconnect().catch(() => undefined),
      this.own.close(),
    ]);
  }

  /** Runs one admin call, turning client errors into messages a user can act on. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof UnjudgedGroupTypeError) throw err; // already says what to do
      throw translateKafkaError(what, err, this.brokers);
    }
  }
}

/** kafkajs error -> our error: connection trouble and retriable protocol errors become TransientError. */
export function translateKafkaError(what: string, err: unknown, brokers: string[], connection?: Pick<KafkaConnection, 'sasl'>): Error {
  const e = err as { name?: string; message?: string; retriable?: boolean; type?: string; originalError?: unknown };
  const root = (e.originalError ?? err) as { name?: string; message?: string };
  const name = root.name ?? e.name ?? '';
  const message = root.message ?? e.message ?? String(err);
  // Neither is worth retrying, and neither kafkajs message says what to do. No password in either.
  if (name === 'KafkaJSSASLAuthenticationError' || /SASL \S+( \S+)? authentication failed/i.test(message)) {
    const sasl = connection?.sasl;
    const who = sasl ? `user ${sasl.username} (${sasl.mechanism.toUpperCase()})` : 'this client';
    return new Error(
      `cannot ${what}: authentication failed for ${who} at ${brokers.join(',')}: check KAFKA_SASL_USERNAME, KAFKA_SASL_MECHANISM and KAFKA_SASL_PASSWORD`,
      { cause: err },
    );
  }
  if (/self[- ]signed certificate|unable to (verify|get local issuer)|certificate (has expired|is not yet valid|signature failure)|does not match certificate's altnames|ERR_TLS_CERT|CERT_/i.test(message)) {
    const reason = message.replace(/^(Connection error|Failed to connect): /, '');
    return new Error(
      `cannot ${what}: the broker's certificate is not trusted: set KAFKA_SSL_CA to the PEM file of the CA that signed it (${reason})`,
      { cause: err },
    );
  }
  // A broker that has just (re)started loads its groups before it coordinates them: kafkajs gives up
  // looking for the coordinator with a "non-retriable" error that is over in seconds.
  if (/GroupCoordinatorNotFound|find group coordinator|COORDINATOR_NOT_AVAILABLE|COORDINATOR_LOAD_IN_PROGRESS|NOT_COORDINATOR/i.test(`${name} ${e.type ?? ''} ${message}`)) {
    return new TransientError(`cannot ${what}: Kafka at ${brokers.join(',')} has no group coordinator ready yet (${message})`, { cause: err });
  }
  if (/Connection|NumberOfRetriesExceeded|RequestTimeout|ECONNREFUSED|ETIMEDOUT|not available|EPIPE|ECONNRESET/i.test(`${name} ${message}`)) {
    return new TransientError(`cannot ${what}: Kafka at ${brokers.join(',')} did not answer (${message})`, { cause: err });
  }
  if (e.retriable) return new TransientError(`cannot ${what}: ${message}`, { cause: err });
  return new Error(`cannot ${what}: ${message}`, { cause: err });
}
