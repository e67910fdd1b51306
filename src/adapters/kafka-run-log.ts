/**
 * The interface of the Kafka side of the shared run store (src/state/kafka-store.ts): a
 * single-partition keyed topic (append with acks=all, read a range of offsets), and consumer groups
 * whose one partition goes to one member, which the store uses as run locks (the lock's protocol:
 * src/state/kafka-lock.ts). The kafkajs code behind it (kafka-run-log-kafkajs.ts,
 * kafka-lock-group.ts) loads only when a store connects (connectRunLog, kafka-connect.ts).
 */

/** One record of partition 0 of a run-log topic. A null value is a tombstone. */
export interface RunLogRecord {
  offset: number;
  key: string | null;
  value: Buffer | null;
}

/** A member of a lock group as the group reports it. */
export interface LockGroupMember {
  memberId: string;
  /** The host the coordinator saw the member's client connect from. */
  clientHost: string;
  /** What the member advertises (see LockGroupOptions.userData); undefined for a member of another protocol. */
  userData: Buffer | undefined;
}

/**
 * How to join a lock group: a consumer group subscribed to a single-partition topic, whose
 * partition 0 the group's leader gives to the member `choose` names. Nothing is ever consumed.
 */
export interface LockGroupOptions {
  group: string;
  /** The single-partition topic whose partition 0 is the lock. */
  topic: string;
  /** The assignor every member must speak; a member speaking another cannot join. */
  protocol: { name: string; version: number };
  /** This member's user data, asked again at every join (it may change between joins). */
  userData(): Buffer;
  /** Run by whichever member the coordinator made leader: the member to give partition 0 (undefined: nobody). */
  choose(members: Pick<LockGroupMember, 'memberId' | 'userData'>[]): string | undefined;
  sessionTimeoutMs: number;
  /** After every join of the group: whether this member was given the lock partition, and its member id. */
  onJoin(holds: boolean, memberId: string): void;
  /** After every heartbeat the group coordinator accepted: this member is still in the group. */
  onHeartbeat(): void;
  /** The client lost its membership (it rejoins by itself; a holder cannot vouch for the time between). */
  onCrash(error: Error): void;
}

/** This process's membership in a lock group. */
export interface LockGroupMembership {
  /** The member the coordinator says has the lock partition now; undefined when nobody does. */
  holder(): Promise<LockGroupMember | undefined>;
  /** Leaves the group: a holder thereby hands the partition to the next member at once. */
  leave(): Promise<void>;
}

/** What the Kafka run store needs from a cluster: a log of run states, and lock groups. */
export interface KafkaRunLog {
  /** Creates the topic (1 partition, replication factor min(3, brokers)) unless it exists. */
  ensureTopic(topic: string, configs: Record<string, string>): Promise<void>;
  /** Partition count of the topic, or undefined when it does not exist. */
  partitions(topic: string): Promise<number | undefined>;
  /** Log start and end offsets of partition 0 (end: the offset the next record will get). */
  offsets(topic: string): Promise<{ start: number; end: number }>;
  /** Hands over the records of partition 0 with offsets in [from, to), in order. */
  read(topic: string, from: number, to: number, onRecord: (r: RunLogRecord) => void): Promise<void>;
  /** Appends to partition 0 and resolves with the record's offset once all in-sync replicas have it. */
  append(topic: string, key: string, value: Buffer | null): Promise<number>;
  /** Joins a lock group; resolves once the member has started joining (see `onJoin`). */
  joinLockGroup(o: LockGroupOptions): Promise<LockGroupMembership>;
  close(): Promise<void>;
}
