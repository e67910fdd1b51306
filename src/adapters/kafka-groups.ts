/**
 * Consumer groups of every type. kafkajs speaks only the classic group protocol: its
 * DescribeGroups (v2) is answered, for a group of the KIP-848 consumer protocol
 * (`group.protocol=consumer`, GA in Kafka 4), with state Dead and no members, as if the group did
 * not exist. Here are the two requests kafkajs lacks, sent through its connections the way
 * kafka-reader.ts sends Fetch:
 *
 * - ConsumerGroupDescribe (API key 69, versions 0-1): state, members and assignments of a
 *   consumer-protocol group;
 * - ListGroups v5 (API key 16): each group's type (classic, consumer, share, streams), to tell a
 *   group that does not exist from one of a type that neither describe request answers.
 *
 * Field layouts follow Kafka's message specs (clients/src/main/resources/common/message/
 * ConsumerGroupDescribe{Request,Response}.json and ListGroups{Request,Response}.json, as shipped
 * in kafka-clients 4.1.2; 3.9's ConsumerGroupDescribe v0 is the same). Both are flexible versions:
 * compact strings and arrays (unsigned varint length + 1), tagged fields after each structure,
 * request header v2 (kafkajs writes v1; the body starts with the header's empty tagged fields) and
 * response header v1 (kafkajs strips the correlation id; the payload starts with its tagged fields).
 * The decoders fail loudly on anything that does not fit the layout, trailing bytes included.
 */
import { TransientError } from '../errors.js';
import type { GroupDescription } from './kafka.js';
import { kafkajsInternals, type Broker, type Cluster } from './kafka-internals.js';
import { commonVersion, FlexibleReader, send } from './kafka-wire.js';

export const CONSUMER_GROUP_DESCRIBE_KEY = 69;
export const LIST_GROUPS_KEY = 16;
/** Error code GROUP_ID_NOT_FOUND: ConsumerGroupDescribe's answer for a group that is not a consumer-protocol group. */
const GROUP_ID_NOT_FOUND = 69;
/**
 * Error code UNSUPPORTED_VERSION: Kafka 3.9 lists ConsumerGroupDescribe among its APIs but answers
 * it with this while the consumer protocol is off (its default there): no consumer-protocol groups.
 */
const UNSUPPORTED_VERSION = 35;
/** ListGroups v5 is the first that gives each group's type (KIP-848). */
const LIST_GROUPS_WITH_TYPE = 5;

/** One member of a consumer-protocol group, as ConsumerGroupDescribe reports it. */
export interface ConsumerGroupMember {
  memberId: string;
  instanceId: string | null;
  rackId: string | null;
  memberEpoch: number;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  /** topic name -> partitions, as assigned now */
  assignment: Record<string, number[]>;
  /** topic name -> partitions the member is moving to */
  targetAssignment: Record<string, number[]>;
  /** v1+: 0 a classic member (a classic client in a consumer group), 1 a consumer member, -1 unknown (v0). */
  memberType: number;
}

/** One group of a ConsumerGroupDescribe answer. */
export interface DescribedConsumerGroup {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  state: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: ConsumerGroupMember[];
  authorizedOperations: number;
}

/** One group of a ListGroups answer. */
export interface ListedGroup {
  groupId: string;
  protocolType: string;
  /** v4+ */
  state: string | null;
  /** v5+: classic, consumer, share or streams */
  type: string | null;
}

/** Thrown for a group whose type kafka.consumers, kafka.drain and kafka.retire cannot judge (share, streams). */
export class UnjudgedGroupTypeError extends Error {
  constructor(
    readonly group: string,
    readonly groupType: string,
  ) {
    super(`group ${group} is a ${groupType} group; kafka.consumers, kafka.drain and kafka.retire judge consumer groups (classic or consumer protocol) only`);
    this.name = 'UnjudgedGroupTypeError';
  }
}

/** The body of a ConsumerGroupDescribe request (v0 and v1 are the same), after kafkajs's v1 header. */
export function encodeConsumerGroupDescribeRequest(groupIds: string[]): Buffer {
  const e = kafkajsInternals().encoder();
  e.writeUVarInt(0); // request header v2: no tagged fields
  e.writeUVarInt(groupIds.length + 1);
  for (const id of groupIds) e.writeUVarIntString(id);
  e.writeBoolean(false); // IncludeAuthorizedOperations
  e.writeUVarInt(0); // tagged fields
  return e.buffer;
}

/** The body of a ListGroups v5 request: no state filter, no type filter (every group, with its type). */
export function encodeListGroupsRequest(): Buffer {
  const e = kafkajsInternals().encoder();
  e.writeUVarInt(0); // request header v2: no tagged fields
  e.writeUVarInt(1); // StatesFilter: empty
  e.writeUVarInt(1); // TypesFilter: empty
  e.writeUVarInt(0); // tagged fields
  return e.buffer;
}

/** Decodes a ConsumerGroupDescribe response (v0 or v1) from what follows the correlation id. */
export function decodeConsumerGroupDescribeResponse(version: number, payload: Buffer): { throttleTimeMs: number; groups: DescribedConsumerGroup[] } {
  if (version < 0 || version > 1) throw new Error(`ConsumerGroupDescribe v${version} is not one migrate can read (0-1)`);
  const r = new FlexibleReader(payload, 'ConsumerGroupDescribe response');
  r.taggedFields(); // response header v1
  const throttleTimeMs = r.int32();
  const groups = r.array(() => {
    const group: DescribedConsumerGroup = {
      errorCode: r.int16(),
      errorMessage: r.nullableString(),
      groupId: r.string(),
      state: r.string(),
      groupEpoch: r.int32(),
      assignmentEpoch: r.int32(),
      assignorName: r.string(),
      members: r.array(() => {
        const member: ConsumerGroupMember = {
          memberId: r.string(),
          instanceId: r.nullableString(),
          rackId: r.nullableString(),
          memberEpoch: r.int32(),
          clientId: r.string(),
          clientHost: r.string(),
          subscribedTopicNames: r.array(() => r.string()),
          subscribedTopicRegex: r.nullableString(),
          assignment: readAssignment(r),
          targetAssignment: readAssignment(r),
          memberType: version >= 1 ? r.int8() : -1,
        };
        r.taggedFields();
        return member;
      }),
      authorizedOperations: r.int32(),
    };
    r.taggedFields();
    return group;
  });
  r.taggedFields();
  r.end();
  return { throttleTimeMs, groups };
}

/** Assignment: TopicPartitions [TopicId uuid, TopicName string, Partitions []int32], then tagged fields. */
function readAssignment(r: FlexibleReader): Record<string, number[]> {
  const byTopic: Record<string, number[]> = {};
  r.array(() => {
    r.uuid();
    const topic = r.string();
    const partitions = r.array(() => r.int32());
    r.taggedFields();
    byTopic[topic] = [...(byTopic[topic] ?? []), ...partitions].sort((a, b) => a - b);
  });
  r.taggedFields();
  return byTopic;
}

/** Decodes a ListGroups response (v3-v5, the flexible ones) from what follows the correlation id. */
export function decodeListGroupsResponse(version: number, payload: Buffer): { throttleTimeMs: number; errorCode: number; groups: ListedGroup[] } {
  if (version < 3 || version > 5) throw new Error(`ListGroups v${version} is not one migrate can read (3-5)`);
  const r = new FlexibleReader(payload, 'ListGroups response');
  r.taggedFields(); // response header v1
  const throttleTimeMs = r.int32();
  const errorCode = r.int16();
  const groups = r.array(() => {
    const group: ListedGroup = {
      groupId: r.string(),
      protocolType: r.string(),
      state: version >= 4 ? r.string() : null,
      type: version >= 5 ? r.string() : null,
    };
    r.taggedFields();
    return group;
  });
  r.taggedFields();
  r.end();
  return { throttleTimeMs, errorCode, groups };
}

/** ConsumerGroupDescribe at `coordinator` (the groups' coordinator); undefined when the broker does not have it (before Kafka 3.7). */
export async function describeConsumerGroups(coordinator: Broker, groupIds: string[]): Promise<DescribedConsumerGroup[] | undefined> {
  const version = commonVersion(coordinator, CONSUMER_GROUP_DESCRIBE_KEY, 0, 1);
  if (version === undefined) return undefined;
  const payload = await send(coordinator, CONSUMER_GROUP_DESCRIBE_KEY, 'ConsumerGroupDescribe', version, encodeConsumerGroupDescribeRequest(groupIds));
  return decodeConsumerGroupDescribeResponse(version, payload).groups;
}

/** ListGroups v5 at `coordinator`: the groups it coordinates, with their types; undefined when the broker has no v5. */
export async function listGroups(coordinator: Broker): Promise<ListedGroup[] | undefined> {
  const version = commonVersion(coordinator, LIST_GROUPS_KEY, LIST_GROUPS_WITH_TYPE, LIST_GROUPS_WITH_TYPE);
  if (version === undefined) return undefined;
  const { errorCode, groups } = decodeListGroupsResponse(version, await send(coordinator, LIST_GROUPS_KEY, 'ListGroups', version, encodeListGroupsRequest()));
  if (errorCode === UNSUPPORTED_VERSION) return undefined;
  if (errorCode) throw protocolError(errorCode, null);
  return groups;
}

/** The group as ConsumerGroupDescribe reports it; undefined when it is no consumer-protocol group (or the broker cannot say). */
async function describeConsumerGroup(coordinator: Broker, group: string): Promise<GroupDescription | undefined> {
  const groups = await describeConsumerGroups(coordinator, [group]);
  if (!groups) return undefined;
  const g = groups.find((x) => x.groupId === group);
  if (!g) throw new Error(`ConsumerGroupDescribe response: group ${group} is missing from the answer`);
  if (g.errorCode === GROUP_ID_NOT_FOUND || g.errorCode === UNSUPPORTED_VERSION) return undefined;
  if (g.errorCode) throw protocolError(g.errorCode, g.errorMessage);
  return {
    group,
    type: 'consumer',
    state: g.state,
    members: g.members.map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.clientHost, assignment: m.assignment })),
  };
}

function protocolError(code: number, message: string | null): Error {
  const err = kafkajsInternals().errorFromCode(code);
  if (message) err.message = `${err.message} (${message})`;
  return err;
}

/**
 * Describes a group of any type at its coordinator: ConsumerGroupDescribe first (where the broker
 * has it); a group it does not know is asked with the classic DescribeGroups (`classic`, kafkajs's);
 * a classic answer of Dead is checked with ListGroups, so that a group of another type (share,
 * streams) gets UnjudgedGroupTypeError instead of passing for one that does not exist.
 */
export async function describeAnyGroup(cluster: Cluster, group: string, classic: () => Promise<GroupDescription>): Promise<GroupDescription> {
  const coordinator = await cluster.findGroupCoordinator({ groupId: group });
  const consumer = await describeConsumerGroup(coordinator, group);
  if (consumer) return consumer;
  const described = await classic();
  if (described.state !== 'Dead') return described;
  const type = (await listGroups(coordinator))?.find((g) => g.groupId === group)?.type?.toLowerCase();
  if (type === undefined || type === 'classic') return described;
  if (type === 'consumer') {
    // It became a consumer group between the two describes (its first member just joined).
    const again = await describeConsumerGroup(coordinator, group);
    if (again) return again;
    throw new TransientError(`group ${group} is listed as a consumer group, but ConsumerGroupDescribe does not find it`);
  }
  throw new UnjudgedGroupTypeError(group, type);
}
