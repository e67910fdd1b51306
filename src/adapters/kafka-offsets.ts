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
import { kafkajsInternals, READ_COMMITTED, READ_UNCOMMITTED, type Cluster, type OwnCluster } from './kafka-internals.js';

const LATEST = '-1';
const EARLIEST = '-2';
/** Errors that mean our metadata is stale (a leader moved, a broker went away): refresh, ask again. */
const STALE_METADATA = new Set(['NOT_LEADER_FOR_PARTITION', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION', 'FENCED_LEADER_EPOCH']);
const STALE_CONNECTION = new Set(['KafkaJSBrokerNotFound', 'KafkaJSConnectionError', 'KafkaJSConnectionClosedError']);
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
  async read(topic: string): Promise<LogOffsets[]> {
    const cluster = await this.own.connected();
    for (let attempt = 1; ; attempt++) {
      try {
        return await readOnce(cluster, topic);
      } catch (err) {
        const e = err as { type?: string; name?: string };
        const stale = STALE_METADATA.has(e.type ?? '') || STALE_CONNECTION.has(e.name ?? '');
        // After close() a retry would reconnect the cluster and keep the process alive.
        if (!stale || attempt >= ATTEMPTS || this.own.closed) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
        // A topic that does not exist fails this way too: it gets the three tries kafkajs gave it.
        await cluster.refreshMetadata().catch(() => undefined);
      }
    }
  }
}

async function readOnce(cluster: Cluster, topic: string): Promise<LogOffsets[]> {
  const kafkajs = kafkajsInternals();
  await cluster.addTargetTopic(topic);
  await cluster.refreshMetadataIfNecessary();
  const byLeader = partitionsByLeader(cluster.findTopicPartitionMetadata(topic));
  if (byLeader.size === 0) return [];
  const perLeader = await Promise.all(
    [...byLeader].map(async ([nodeId, leading]) => {
      const broker = await cluster.findBroker({ nodeId });
      const ask = async (isolationLevel: number, timestamp: string): Promise<Map<number, number>> => {
        try {
          const res = await kafkajs.listOffsets(broker, { isolationLevel, topics: [{ topic, partitions: leading.map((partition) => ({ partition, timestamp })) }] });
          const offsets = res.responses.find((r) => r.topic === topic)?.partitions ?? [];
          return new Map(offsets.map((p) => [p.partition, Number(p.offset)]));
        } catch (err) {
          if ((err as { name?: string }).name === 'KafkaJSConnectionClosedError') await broker.disconnect().catch(() => undefined);
          throw err;
        }
      };
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
