/**
 * ListOffsets and OffsetFetch as migrate encodes them itself, for the lag poll a wait makes every
 * interval. kafkajs 2.2.4 speaks ListOffsets up to v3 and OffsetFetch up to v4, one group per
 * request, through its general encoder and decoder (a Long per int64, a string per offset, an
 * object spread per partition): at 10,000 partitions that was most of a warm poll's CPU once the
 * leader lookup was fixed. Here:
 *
 * - ListOffsets v6-v9 (API key 2): per partition an offset at a timestamp (-1 latest, -2
 *   earliest), at an isolation level;
 * - OffsetFetch v8-v9 (API key 9): the committed offsets of several groups in one request (KIP-709).
 *
 * Both are flexible versions (kafka-wire.ts), picked from the broker's ApiVersions; where the broker
 * has none of them the adapter keeps kafkajs's requests. Layouts follow Kafka's message specs
 * (ListOffsets{Request,Response}.json, OffsetFetch{Request,Response}.json in kafka-clients 4.1.2).
 */
import { commonVersion, FlexibleReader, FlexibleWriter, send } from './kafka-wire.js';
import type { Broker } from './kafka-internals.js';

export const LIST_OFFSETS_KEY = 2;
export const OFFSET_FETCH_KEY = 9;
/** ListOffsets v6 is the first flexible version; v10 adds a timeout field migrate does not write. */
const LIST_OFFSETS_VERSIONS = [6, 9] as const;
/** OffsetFetch v8 is the first with several groups per request; v10 names topics by id. */
const OFFSET_FETCH_VERSIONS = [8, 9] as const;

/** One partition of a ListOffsets answer. */
export interface ListedOffset {
  partition: number;
  errorCode: number;
  offset: number;
}

/** One partition of an OffsetFetch answer (offset -1: nothing committed). */
export interface FetchedOffset {
  partition: number;
  offset: number;
  errorCode: number;
}

/** One group of an OffsetFetch answer: its error, and its partitions of the topics asked for. */
export interface FetchedGroup {
  groupId: string;
  errorCode: number;
  topics: { name: string; partitions: FetchedOffset[] }[];
}

/** The ListOffsets version migrate encodes that the broker speaks, or undefined. */
export function listOffsetsVersion(broker: Broker): number | undefined {
  return commonVersion(broker, LIST_OFFSETS_KEY, ...LIST_OFFSETS_VERSIONS);
}

/** The OffsetFetch version migrate encodes that the broker speaks, or undefined. */
export function offsetFetchVersion(broker: Broker): number | undefined {
  return commonVersion(broker, OFFSET_FETCH_KEY, ...OFFSET_FETCH_VERSIONS);
}

/** The body of a ListOffsets request (v6-v9) for one topic: the same timestamp for every partition. */
export function encodeListOffsetsRequest(isolationLevel: number, topic: string, partitions: readonly number[], timestamp: number): Buffer {
  const w = new FlexibleWriter(64 + partitions.length * 17);
  w.noTags(); // request header v2
  w.int32(-1); // ReplicaId: a client
  w.int8(isolationLevel);
  w.array([topic], (name) => {
    w.string(name);
    w.array(partitions, (p) => w.int32(p).int32(-1).int64(timestamp).noTags()); // CurrentLeaderEpoch -1: not checked
    w.noTags();
  });
  return w.noTags().buffer;
}

/** Decodes a ListOffsets response (v6-v9): the partitions of every topic in it. */
export function decodeListOffsetsResponse(version: number, payload: Buffer): ListedOffset[] {
  const r = responseReader('ListOffsets', LIST_OFFSETS_VERSIONS, version, payload);
  const out: ListedOffset[] = [];
  r.array(() => {
    r.string(); // Name: one topic asked for
    r.array(() => {
      const partition = r.int32();
      const errorCode = r.int16();
      r.int64(); // Timestamp
      const offset = r.int64();
      r.int32(); // LeaderEpoch
      r.taggedFields();
      out.push({ partition, errorCode, offset });
    });
    r.taggedFields();
  });
  r.taggedFields();
  r.end();
  return out;
}

/** The body of an OffsetFetch request (v8-v9): each group's committed offsets on the given partitions of `topic`. */
export function encodeOffsetFetchRequest(version: number, groupIds: readonly string[], topic: string, partitions: readonly number[]): Buffer {
  const w = new FlexibleWriter(64 + groupIds.length * (32 + topic.length + partitions.length * 4));
  w.noTags(); // request header v2
  w.array(groupIds, (groupId) => {
    w.string(groupId);
    if (version >= 9) w.string(null).int32(-1); // MemberId, MemberEpoch: not a member (an admin's read)
    w.array([topic], (name) => {
      w.string(name);
      w.array(partitions, (p) => w.int32(p));
      w.noTags();
    });
    w.noTags();
  });
  w.boolean(false); // RequireStable: as the consumer-groups tool reads
  return w.noTags().buffer;
}

/** Decodes an OffsetFetch response (v8-v9). */
export function decodeOffsetFetchResponse(version: number, payload: Buffer): FetchedGroup[] {
  const r = responseReader('OffsetFetch', OFFSET_FETCH_VERSIONS, version, payload);
  const groups = r.array(() => {
    const groupId = r.string();
    const topics = r.array(() => {
      const name = r.string();
      const partitions = r.array(() => {
        const partition = r.int32();
        const offset = r.int64();
        r.int32(); // CommittedLeaderEpoch
        r.nullableString(); // Metadata
        const errorCode = r.int16();
        r.taggedFields();
        return { partition, offset, errorCode };
      });
      r.taggedFields();
      return { name, partitions };
    });
    const errorCode = r.int16();
    r.taggedFields();
    return { groupId, errorCode, topics };
  });
  r.taggedFields();
  r.end();
  return groups;
}

/** A reader of a response of `api` at `version`, past its header and throttle time; throws for a version outside `versions`. */
function responseReader(api: string, versions: readonly [number, number], version: number, payload: Buffer): FlexibleReader {
  if (version < versions[0] || version > versions[1]) throw new Error(`${api} v${version} is not one migrate can read (${versions[0]}-${versions[1]})`);
  const r = new FlexibleReader(payload, `${api} response`);
  r.taggedFields(); // response header v1
  r.int32(); // ThrottleTimeMs
  return r;
}

/** ListOffsets at `version` to the partitions' leader. */
export async function listOffsets(leader: Broker, version: number, isolationLevel: number, topic: string, partitions: readonly number[], timestamp: number): Promise<ListedOffset[]> {
  const payload = await send(leader, LIST_OFFSETS_KEY, 'ListOffsets', version, encodeListOffsetsRequest(isolationLevel, topic, partitions, timestamp));
  return decodeListOffsetsResponse(version, payload);
}

/** OffsetFetch at `version` to the groups' coordinator. */
export async function fetchGroupOffsets(coordinator: Broker, version: number, groupIds: readonly string[], topic: string, partitions: readonly number[]): Promise<FetchedGroup[]> {
  const payload = await send(coordinator, OFFSET_FETCH_KEY, 'OffsetFetch', version, encodeOffsetFetchRequest(version, groupIds, topic, partitions));
  return decodeOffsetFetchResponse(version, payload);
}
