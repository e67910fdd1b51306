/**
 * Log offsets as Kafka's consumer-groups tool reads them: the log end is the high watermark
 * (ListOffsets at READ_UNCOMMITTED), and beside it the last stable offset (READ_COMMITTED), which
 * stays behind the high watermark while a transaction is open on the partition. kafkajs's
 * admin.fetchTopicOffsets asks only at READ_COMMITTED, so its "log end" is the last stable offset:
 * records of an open transaction are invisible to it, and a drain or quiet check built on it passes
 * while a transactional producer is still writing.
 *
 * Through the admin's own kafkajs cluster (OwnCluster), connected on first use and kept until the
 * admin closes, so the polls of a drain reuse warm connections and cached metadata; per leader, the three ListOffsets requests go
 * out together on the same connection. Reaches into kafkajs internals through kafka-internals.ts.
 */
import { kafkajsInternals, READ_COMMITTED, READ_UNCOMMITTED, type Broker, type Cluster, type OwnCluster } from './kafka-internals.js';
import { fetchGroupOffsets, listOffsets, listOffsetsVersion, offsetFetchVersion } from './kafka-offset-requests.js';

const LATEST = -1;
const EARLIEST = -2;
/** Errors that mean our metadata is stale (a leader moved, a broker went away): refresh, ask again. */
const STALE_METADATA = new Set(['NOT_LEADER_FOR_PARTITION', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION', 'FENCED_LEADER_EPOCH']);
const STALE_CONNECTION = new Set(['KafkaJSBrokerNotFound', 'KafkaJSConnectionError', 'KafkaJSConnectionClosedError']);
/** Error codes that mean the group's coordinator moved or is loading: find it again, ask again. */
const STALE_COORDINATOR = new Set([14, 15, 16]);
const ATTEMPTS = 3;

/** Offsets of one partition's log. */
export interface LogOffsets {
  partition: number;
  logStart: number;
  /** The high watermark: the offset after the last record written, committed or not. */
  logEnd: number;
  /** The last stable offset: below the high watermark while a transaction is open on the partition. */
  lastStable: number;
}

/** Reads log offsets through the admin's own cluster (kept connected between reads). */
export class LogOffsetsReader {
  constructor(private readonly own: OwnCluster) {}

  /** Log start, high watermark and last stable offset of every partition of `topic`, by partition. */
  read(topic: string): Promise<LogOffsets[]> {
    return withRetries(this.own, (cluster) => readOnce(cluster, topic));
  }
}

/**
 * Reads committed offsets of groups through the admin's own cluster: one OffsetFetch per
 * coordinator for all the groups it coordinates, each group's coordinator remembered until it
 * moves (kafkajs's admin asks FindCoordinator before every fetch).
 */
export class CommittedOffsetsReader {
  private readonly coordinators = new Map<string, Promise<Broker>>();

  constructor(private readonly own: OwnCluster) {}

  /**
   * group -> partition -> committed offset (partitions with nothing committed left out), for every
   * partition of `topic`; undefined when a coordinator has no OffsetFetch v8 (a broker before
   * Kafka 3.0): the caller asks kafkajs's admin instead.
   */
  read(groups: readonly string[], topic: string): Promise<Map<string, Map<number, number>> | undefined> {
    return withRetries(
      this.own,
      (cluster) => this.readOnce(cluster, groups, topic),
      () => this.coordinators.clear(),
    );
  }

  private coordinator(cluster: Cluster, group: string): Promise<Broker> {
    let found = this.coordinators.get(group);
    if (!found) {
      found = cluster.findGroupCoordinator({ groupId: group });
      this.coordinators.set(group, found);
      found.catch(() => this.coordinators.delete(group));
    }
    return found;
  }

  private async readOnce(cluster: Cluster, groups: readonly string[], topic: string): Promise<Map<string, Map<number, number>> | undefined> {
    const partitions = await topicPartitions(cluster, topic);
    const byCoordinator = new Map<Broker, string[]>();
    for (const [i, broker] of (await Promise.all(groups.map((g) => this.coordinator(cluster, g)))).entries()) {
      const mine = byCoordinator.get(broker);
      if (mine) mine.push(groups[i] as string);
      else byCoordinator.set(broker, [groups[i] as string]);
    }
    const out = new Map<string, Map<number, number>>();
    for (const coordinator of byCoordinator.keys()) if (offsetFetchVersion(coordinator) === undefined) return undefined;
    await Promise.all(
      [...byCoordinator].map(async ([coordinator, mine]) => {
        const answer = await fetchGroupOffsets(coordinator, offsetFetchVersion(coordinator) as number, mine, topic, partitions);
        for (const g of answer) {
          if (g.errorCode) {
            if (STALE_COORDINATOR.has(g.errorCode)) this.coordinators.delete(g.groupId);
            throw kafkajsInternals().errorFromCode(g.errorCode);
          }
          const committed = new Map<number, number>();
          for (const t of g.topics) {
            for (const p of t.partitions) {
              if (p.errorCode) throw kafkajsInternals().errorFromCode(p.errorCode);
              if (t.name === topic && p.offset >= 0) committed.set(p.partition, p.offset);
            }
          }
          out.set(g.groupId, committed);
        }
      }),
    );
    for (const g of groups) if (!out.has(g)) throw new Error(`OffsetFetch response: group ${g} is missing from the answer`);
    return out;
  }
}

/** Runs `read` on the connected cluster; stale metadata or a lost connection refreshes the metadata (and calls `onStale`) and tries again. */
async function withRetries<T>(own: OwnCluster, read: (cluster: Cluster) => Promise<T>, onStale?: () => void): Promise<T> {
  const cluster = await own.connected();
  for (let attempt = 1; ; attempt++) {
    try {
      return await read(cluster);
    } catch (err) {
      const e = err as { type?: string; name?: string; code?: number };
      const stale = STALE_METADATA.has(e.type ?? '') || STALE_CONNECTION.has(e.name ?? '') || STALE_COORDINATOR.has(e.code ?? NaN);
      // After close() a retry would reconnect the cluster and keep the process alive.
      if (!stale || attempt >= ATTEMPTS || own.closed) throw err;
      onStale?.();
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      // A topic that does not exist fails this way too: it gets the three tries kafkajs gave it.
      await cluster.refreshMetadata().catch(() => undefined);
    }
  }
}

/** The topic's partition ids from the cluster's metadata (fetched when it does not have the topic yet). */
async function topicPartitions(cluster: Cluster, topic: string): Promise<number[]> {
  await cluster.addTargetTopic(topic);
  await cluster.refreshMetadataIfNecessary();
  return cluster.findTopicPartitionMetadata(topic).map((p) => p.partitionId);
}

async function readOnce(cluster: Cluster, topic: string): Promise<LogOffsets[]> {
  await cluster.addTargetTopic(topic);
  await cluster.refreshMetadataIfNecessary();
  const byLeader = partitionsByLeader(cluster.findTopicPartitionMetadata(topic));
  if (byLeader.size === 0) return [];
  const perLeader = await Promise.all(
    [...byLeader].map(async ([nodeId, leading]) => {
      const broker = await cluster.findBroker({ nodeId });
      const ask = askFor(broker, topic, leading);
      // A partition may appear only once per ListOffsets request: three requests, sent together.
      const [ends, stable, starts] = await Promise.all([ask(READ_UNCOMMITTED, LATEST), ask(READ_COMMITTED, LATEST), ask(READ_UNCOMMITTED, EARLIEST)]);
      return leading.map((partition) => {
        const logEnd = ends.get(partition);
        const lastStable = stable.get(partition);
        const logStart = starts.get(partition);
        if (logEnd === undefined || lastStable === undefined || logStart === undefined) {
          throw Object.assign(new Error(`the broker did not answer for partition ${partition} of ${topic}`), { type: 'UNKNOWN_TOPIC_OR_PARTITION' });
        }
        return { partition, logStart, logEnd, lastStable };
      });
    }),
  );
  return perLeader.flat().sort((a, b) => a.partition - b.partition);
}

/**
 * ListOffsets of `partitions` at their leader, by partition: migrate's own encoding where the
 * broker speaks one of its versions (v6-v9), kafkajs's otherwise. A partition's error is thrown.
 */
function askFor(broker: Broker, topic: string, partitions: number[]): (isolationLevel: number, timestamp: number) => Promise<Map<number, number>> {
  const version = listOffsetsVersion(broker);
  const kafkajs = kafkajsInternals();
  return async (isolationLevel, timestamp) => {
    if (version !== undefined) {
      const answer = await listOffsets(broker, version, isolationLevel, topic, partitions, timestamp);
      const offsets = new Map<number, number>();
      for (const p of answer) {
        if (p.errorCode) throw kafkajs.errorFromCode(p.errorCode);
        offsets.set(p.partition, p.offset);
      }
      return offsets;
    }
    try {
      const res = await kafkajs.listOffsets(broker, { isolationLevel, topics: [{ topic, partitions: partitions.map((partition) => ({ partition, timestamp: String(timestamp) })) }] });
      const offsets = res.responses.find((r) => r.topic === topic)?.partitions ?? [];
      return new Map(offsets.map((p) => [p.partition, Number(p.offset)]));
    } catch (err) {
      if ((err as { name?: string }).name === 'KafkaJSConnectionClosedError') await broker.disconnect().catch(() => undefined);
      throw err;
    }
  };
}

/**
 * The partitions of a topic's metadata grouped by leader, in one pass. Not kafkajs's
 * findLeaderForPartitions: it looks each partition up with a linear find, which at 10,000
 * partitions was 250 ms of CPU per poll (measured: 95% of a warm groupOffsets).
 */
export function partitionsByLeader(metadata: readonly { partitionId: number; leader: number }[]): Map<number, number[]> {
  const byLeader = new Map<number, number[]>();
  for (const { partitionId, leader } of metadata) {
    const leading = byLeader.get(leader);
    if (leading) leading.push(partitionId);
    else byLeader.set(leader, [partitionId]);
  }
  return byLeader;
}
