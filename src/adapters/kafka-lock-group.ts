/**
 * Lock groups on kafkajs: a consumer group subscribed to a single-partition topic, whose partition
 * 0 the group's leader gives to one member through an assignor of our own. What a member
 * advertises and whom the leader chooses is the lock's protocol (src/state/kafka-lock.ts); this
 * file only speaks the group protocol.
 */
import kafkajs, { type Admin, type Consumer, type GroupMember, type Kafka as KafkaClient, type PartitionAssigner } from 'kafkajs';
import { translateKafkaError } from './kafka-kafkajs.js';
import type { LockGroupMember, LockGroupMembership, LockGroupOptions } from './kafka-run-log.js';

const { AssignerProtocol } = kafkajs;

/** The connection a lock group rides on; `consumers` holds every member's consumer while it runs, for the connection's close. */
export interface LockGroupClient {
  client: KafkaClient;
  admin: Admin;
  brokers: string[];
  consumers: Set<Consumer>;
}

/** Joins the lock group; resolves once the member has started joining (see `onJoin`), and rejoins after a crash until it leaves. */
export async function joinLockGroup(c: LockGroupClient, o: LockGroupOptions): Promise<LockGroupMembership> {
  let left = false;
  let current: Consumer | undefined;
  let rejoinTimer: NodeJS.Timeout | undefined;

  const start = async (): Promise<void> => {
    const consumer = c.client.consumer({
      groupId: o.group,
      partitionAssigners: [lockAssigner(o)],
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
    c.consumers.add(consumer);
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      o.onJoin((e.payload.memberAssignment[o.topic] ?? []).includes(0), e.payload.memberId);
    });
    consumer.on(consumer.events.HEARTBEAT, () => o.onHeartbeat());
    consumer.on(consumer.events.CRASH, (e) => {
      // The client has left the group by now (a broker restarting, say): join again as a new member.
      c.consumers.delete(consumer);
      o.onCrash(e.payload.error);
      rejoinLater();
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic: o.topic, fromBeginning: false });
      // Nothing is ever written to the lock topic: holding its partition is the point.
      await consumer.run({ autoCommit: false, eachBatch: async () => undefined });
    } catch (err) {
      c.consumers.delete(consumer);
      await consumer.disconnect().catch(() => undefined);
      throw translateKafkaError(`join lock group ${o.group}`, err, c.brokers);
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
    holder: () => lockHolder(c, o.group, o.topic),
    leave: async () => {
      if (left) return;
      left = true;
      clearTimeout(rejoinTimer);
      const consumer = current;
      if (consumer) {
        c.consumers.delete(consumer);
        await consumer.disconnect().catch(() => undefined);
      }
      // Tidy: an empty lock group would linger until the broker's cleanup. Refused while a waiter is in it.
      await c.admin.deleteGroups([o.group]).catch(() => undefined);
    },
  };
}

/** The member the coordinator reports with partition 0 of the topic assigned. */
async function lockHolder(c: LockGroupClient, group: string, topic: string): Promise<LockGroupMember | undefined> {
  let res: Awaited<ReturnType<Admin['describeGroups']>>;
  try {
    res = await c.admin.describeGroups([group]);
  } catch (err) {
    throw translateKafkaError(`describe group ${group}`, err, c.brokers);
  }
  for (const m of res.groups.find((g) => g.groupId === group)?.members ?? []) {
    const assignment = m.memberAssignment?.length ? AssignerProtocol.MemberAssignment.decode(m.memberAssignment) : null;
    if (!assignment?.assignment[topic]?.includes(0)) continue;
    return { memberId: m.memberId, clientHost: m.clientHost, userData: memberUserData(m.memberMetadata) };
  }
  return undefined;
}

/** The assignor run by whichever member the coordinator made leader: partition 0 to the member `choose` names, nothing to the others. */
function lockAssigner(o: LockGroupOptions): PartitionAssigner {
  const { name, version } = o.protocol;
  return () => ({
    name,
    version,
    protocol: ({ topics }) => ({
      name,
      metadata: AssignerProtocol.MemberMetadata.encode({ version, topics, userData: o.userData() }),
    }),
    assign: async ({ members }) => {
      const chosen = o.choose(members.map((m) => ({ memberId: m.memberId, userData: memberUserData(m.memberMetadata) })));
      return members.map((m: GroupMember) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version,
          assignment: m.memberId === chosen ? { [o.topic]: [0] } : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
  });
}

/** The user data in a member's metadata; undefined when the metadata cannot be decoded (a member of another kind). */
function memberUserData(buffer: Buffer | undefined): Buffer | undefined {
  if (!buffer?.length) return undefined;
  try {
    return AssignerProtocol.MemberMetadata.decode(buffer)?.userData ?? undefined;
  } catch {
    return undefined;
  }
}
