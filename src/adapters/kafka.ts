/**
 * The Kafka adapter's interface: what steps and commands see of a Kafka cluster. The client
 * library behind it (kafkajs, kafka-kafkajs.ts) is loaded lazily by connectKafka
 * (kafka-connect.ts), on the first step that needs Kafka.
 */

/** How to reach the cluster: config's `kafka` section (config.ts owns its shape). */
export type { KafkaConnection } from '../config.js';

/** A topic as the cluster reports it. */
export interface TopicDescription {
  name: string;
  partitions: number;
  replicationFactor: number;
  /** Values of the config names asked for. */
  configs: Record<string, string>;
}

/** A topic to create. */
export interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  configs: Record<string, string>;
}

/** Offsets of one partition: log start, log end, and what a group committed (null: nothing). */
export interface PartitionOffsets {
  partition: number;
  logStart: number;
  /** The high watermark (as Kafka's consumer-groups tool reads it): records of open transactions included. */
  logEnd: number;
  /**
   * The last stable offset: where a read_committed consumer has to stop. Below logEnd while a
   * transaction is open on the partition; undefined where the source cannot tell (read as logEnd).
   */
  lastStable?: number;
  committed: number | null;
}

/** Lag of one partition for a group. */
export interface PartitionLag extends PartitionOffsets {
  lag: number;
}

/** One member of a consumer group and the partitions it is assigned. */
export interface GroupMember {
  memberId: string;
  clientId: string;
  host: string;
  /** topic -> assigned partitions */
  assignment: Record<string, number[]>;
}

/**
 * A consumer group as its coordinator reports it. State "Dead" means the group does not exist
 * (a group that does not exist is reported as a classic one). Groups of other types (share,
 * streams) are not described: describeGroup throws a clear error for them.
 */
export interface GroupDescription {
  group: string;
  /** classic: the JoinGroup/SyncGroup protocol; consumer: KIP-848's (`group.protocol=consumer`). */
  type: 'classic' | 'consumer';
  /** classic: Stable, PreparingRebalance, CompletingRebalance, Empty, Dead; consumer: Stable, Assigning, Reconciling, Empty, Dead. */
  state: 'Stable' | 'PreparingRebalance' | 'CompletingRebalance' | 'Assigning' | 'Reconciling' | 'Empty' | 'Dead' | string;
  members: GroupMember[];
}

/** One record read from a topic. */
export interface KafkaRecord {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
}

/**
 * Undecoded records of one partition as fetched: record batches (Kafka's format, magic 2) from
 * offset `from` on; decode them with forEachRecord (kafka-records.ts), which skips what lies before
 * `from`, control batches and the `aborted` transactions. A chunk of many small events is cheaper
 * to hand to a worker thread than the records one by one.
 */
export interface RecordChunk {
  partition: number;
  from: number;
  records: Buffer;
  aborted: { producerId: bigint; firstOffset: number }[];
}

/** A running read of a topic from given offsets; records go to the callback as they arrive. */
export interface TopicReader {
  /** The next offset to be read, per partition. */
  position(): Record<number, number>;
  /** Why reading stopped for good (e.g. a compression it cannot read); undefined while it reads or retries. */
  failure?(): Error | undefined;
  close(): Promise<void>;
}

/** The cluster as its metadata reports it. */
export interface ClusterDescription {
  clusterId: string;
  /** Node id of the active controller, when the cluster names one. */
  controller: number | null;
  brokers: { nodeId: number; host: string; port: number }[];
}

/**
 * A connection to one Kafka cluster: what migrate's steps and commands need of it. It administers
 * (topics, groups), reads offsets, and reads records (readTopic): one connection serves all three.
 */
export interface KafkaCluster {
  /** Cluster id, controller and brokers: the cheapest "is it there, and may I describe it" (migrate doctor). */
  describeCluster(): Promise<ClusterDescription>;
  /** Names of the topics this client may see. */
  listTopics(): Promise<string[]>;
  /** Deletes a topic; false when it did not exist. */
  deleteTopic(name: string): Promise<boolean>;
  /** The topic with the given config values, or undefined when it does not exist. */
  describeTopic(name: string, configNames: string[]): Promise<TopicDescription | undefined>;
  /** Creates the topic; false when it already existed. */
  createTopic(spec: TopicSpec): Promise<boolean>;
  /** Log start, high watermark, last stable offset and the group's committed offset, for every partition of the topic. */
  groupOffsets(group: string, topic: string): Promise<PartitionOffsets[]>;
  /** groupOffsets of several groups on one topic, in as few requests as the cluster allows (one per group coordinator). */
  groupsOffsets(groups: readonly string[], topic: string): Promise<Map<string, PartitionOffsets[]>>;
  /** Log start, high watermark and last stable offset of every partition (committed is null). */
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** The group's type, state and members, whichever group protocol it uses (classic or consumer). */
  describeGroup(group: string): Promise<GroupDescription>;
  /** Deletes a group that has no members; false when it did not exist. */
  deleteGroup(group: string): Promise<boolean>;
  /**
   * Reads the topic from the given offsets (per partition) without committing anything, calling
   * `onRecord` for each record in order within a partition. Memory stays bounded: nothing is buffered
   * beyond the batch being handed over.
   */
  readTopic(topic: string, from: Record<number, number>, onRecord: (r: KafkaRecord) => void): Promise<TopicReader>;
  /**
   * readTopic handing over undecoded chunks (see RecordChunk). When `onChunk` returns a promise the
   * reading waits for it before the next chunk, so memory stays bounded by what the consumer holds.
   */
  readTopicChunks?(topic: string, from: Record<number, number>, onChunk: (chunk: RecordChunk) => void | Promise<void>): Promise<TopicReader>;
  close(): Promise<void>;
}

/**
 * Lag as the trusted tools define it, computed from both offsets: log end minus committed, never
 * below 0. A partition the group never committed counts every retained record as lag.
 */
export function consumerLag(offsets: readonly PartitionOffsets[]): PartitionLag[] {
  return offsets
    .map((o) => {
      const from = o.committed === null ? o.logStart : Math.max(o.committed, o.logStart);
      return { ...o, lag: Math.max(0, o.logEnd - from) };
    })
    .sort((a, b) => a.partition - b.partition);
}

/** Partitions with a transaction open: records past the last stable offset, not yet committed or aborted. */
export function openTransactions(offsets: readonly PartitionOffsets[]): PartitionOffsets[] {
  return offsets.filter((o) => o.lastStable !== undefined && o.lastStable < o.logEnd).sort((a, b) => a.partition - b.partition);
}
