/**
 * The kafkajs 2.2.4 internals that the adapter uses where kafkajs's public API has no call for what
 * it needs (a Fetch without a group, requests kafkajs does not implement): the client's private
 * createCluster, a broker's lookupRequest, connectionPool and listOffsets, the protocol's request definitions,
 * API keys, error codes and encoder. kafkajs is pinned to exactly 2.2.4 in package.json; a kafkajs
 * upgrade must re-check these, and `kafkajsInternals()` fails loudly if they moved.
 */
import type { Kafka as KafkaClient } from 'kafkajs';
// Imported (not require()d at the call) so that the bundle bin/migrate runs (scripts/bundle.mjs) holds
// one copy of kafkajs, whose modules these are: the request queue patched below must be the client's.
import BrokerModule from 'kafkajs/src/broker/index.js';
import RequestQueueModule from 'kafkajs/src/network/requestQueue/index.js';
import EncoderModule from 'kafkajs/src/protocol/encoder.js';
import errorModule from 'kafkajs/src/protocol/error.js';
import apiKeysModule from 'kafkajs/src/protocol/requests/apiKeys.js';
import requestsModule from 'kafkajs/src/protocol/requests/index.js';

export const READ_UNCOMMITTED = 0;
export const READ_COMMITTED = 1;

/** A request as kafkajs's connection sends it: its encoder, its response decoder and parser. */
export interface ProtocolRequest {
  request: { apiKey: number; apiVersion: number; apiName: string; encode(): Promise<KafkajsEncoder> };
  response: { decode(payload: Buffer): Promise<unknown>; parse(data: unknown): Promise<unknown> };
  requestTimeout?: number;
}

/** A request definition as kafkajs keeps them: the versions it implements, and each version's request. */
export interface RequestDefinition<A> {
  versions: string[];
  protocol(o: { version: number }): (args: A) => ProtocolRequest;
}

/** kafkajs's protocol encoder (protocol/encoder.js); only what the adapter writes with. */
export interface KafkajsEncoder {
  writeInt8(v: number): KafkajsEncoder;
  writeInt16(v: number): KafkajsEncoder;
  writeInt32(v: number): KafkajsEncoder;
  writeBoolean(v: boolean): KafkajsEncoder;
  writeString(v: string | null): KafkajsEncoder;
  writeUVarInt(v: number): KafkajsEncoder;
  writeUVarIntString(v: string | null): KafkajsEncoder;
  writeBuffer(v: Buffer): KafkajsEncoder;
  buffer: Buffer;
}

/** ListOffsets as kafkajs's broker sends it: per partition, a timestamp (-1 latest, -2 earliest). */
export interface ListOffsetsArgs {
  isolationLevel: number;
  topics: { topic: string; partitions: { partition: number; timestamp: string }[] }[];
}

/** kafkajs's parsed ListOffsets answer (a partition's error is thrown, not returned). */
export interface ListOffsetsResult {
  responses: { topic: string; partitions: { partition: number; offset: string }[] }[];
}

/** A broker of kafkajs's cluster. */
export interface Broker {
  nodeId: number;
  versions: Record<number, { minVersion: number; maxVersion: number }> | null;
  lookupRequest<A>(apiKey: number, definition: RequestDefinition<A> | unknown): (args: A) => ProtocolRequest;
  connectionPool: { send(request: ProtocolRequest): Promise<unknown> };
  /** kafkajs's public-in-all-but-name broker call; reached through Internals.listOffsets, which checks it is there. */
  listOffsets?(args: ListOffsetsArgs): Promise<ListOffsetsResult>;
  /** A Metadata request to this broker alone; rejects with the first topic's error (e.g. UNKNOWN_TOPIC_OR_PARTITION). */
  metadata(topics: string[]): Promise<{ topicMetadata: { topic: string; partitionMetadata: { partitionId: number; leader: number }[] }[] }>;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

/** kafkajs's cluster: metadata, leaders, coordinators, and the brokers' connections. */
export interface Cluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  isConnected(): boolean;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadata(): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number; leader: number }[];
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(q: { nodeId: string | number }): Promise<Broker>;
  findGroupCoordinator(q: { groupId: string; coordinatorType?: number }): Promise<Broker>;
  fetchTopicsOffset(
    topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
  brokerPool: { brokers: Record<string, Broker> };
}

export interface Internals {
  /** A cluster of the client's own (connections apart from its admin's), reading at the given isolation level. */
  createCluster(client: KafkaClient, o?: { isolationLevel?: number }): Cluster;
  apiKeys: Record<string, number>;
  /** kafkajs's own request definitions, by name (e.g. "Fetch", "ListOffsets"). */
  requests: Record<string, unknown>;
  /** A new, empty kafkajs protocol encoder. */
  encoder(): KafkajsEncoder;
  errorFromCode(code: number): Error & { retriable?: boolean; type?: string };
  /** Sends ListOffsets to the broker at the isolation level asked for (kafkajs's cluster would use its own). */
  listOffsets(broker: Broker, args: ListOffsetsArgs): Promise<ListOffsetsResult>;
}

let internals: Internals | undefined;

const MOVED = 'the installed kafkajs does not have the internals migrate uses (kafkajs 2.2.4 does); reinstall migrate with its pinned kafkajs';

/** The kafkajs internals, found once; throws a clear error when this kafkajs does not have them. */
export function kafkajsInternals(): Internals {
  if (internals) return internals;
  const { requests } = requestsModule as { requests: Record<string, unknown> };
  const apiKeys = apiKeysModule as Record<string, number>;
  const { createErrorFromCode } = errorModule as { createErrorFromCode: Internals['errorFromCode'] };
  const Encoder = EncoderModule as new () => KafkajsEncoder;
  if (!requests.Fetch || typeof apiKeys.Fetch !== 'number' || typeof createErrorFromCode !== 'function' || typeof Encoder !== 'function') {
    throw new Error(MOVED);
  }
  if (typeof (new Encoder() as Partial<KafkajsEncoder>).writeUVarIntString !== 'function') throw new Error(MOVED);
  const BrokerClass = BrokerModule as { prototype?: Partial<Broker> };
  if (typeof BrokerClass.prototype?.metadata !== 'function') throw new Error(MOVED);
  internals = {
    createCluster(client, o = {}) {
      const symbol = Object.getOwnPropertySymbols(client).find((s) => s.description === 'private:Kafka:createCluster');
      const create = symbol && (client as unknown as Record<symbol, unknown>)[symbol];
      if (typeof create !== 'function') throw new Error(MOVED);
      return (create as (o: object) => Cluster)({ metadataMaxAge: 300_000, allowAutoTopicCreation: false, isolationLevel: o.isolationLevel ?? READ_COMMITTED });
    },
    apiKeys,
    requests,
    encoder: () => new Encoder(),
    errorFromCode: createErrorFromCode,
    listOffsets(broker, args) {
      if (typeof broker.listOffsets !== 'function') throw new Error(MOVED);
      return broker.listOffsets(args);
    },
  };
  return internals;
}

/** Hands the raw response body (after the correlation id) to the caller instead of a kafkajs decoder. */
export const rawResponse: ProtocolRequest['response'] = {
  decode: async (payload) => payload,
  parse: async (data) => data,
};

/** kafkajs's per-connection request queue (network/requestQueue); only what the fix below touches. */
interface RequestQueue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

// kafkajs 2.2.4's own wait before it looks at its pending requests again (requestQueue/index.js).
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;
let requestQueueFixed = false;

/**
 * Stops kafkajs 2.2.4's idle timer loop (tulios/kafkajs#1751, unfixed upstream): after a response,
 * each connection's request queue sets `setTimeout(fn, throttledUntil - Date.now())`, and with no
 * throttle that is about -Date.now(): Node clamps it to 1 ms and the callback schedules the same
 * again, so every open connection wakes the process ~500 times a second while idle, and Node 23+
 * prints a TimeoutNegativeWarning into migrate's output. With nothing pending there is nothing to
 * check (a request that gets queued schedules its own check), so the queue now schedules only then.
 */
export function fixRequestQueueIdleLoop(): void {
  if (requestQueueFixed) return;
  const RequestQueue = RequestQueueModule as { prototype: RequestQueue };
  const original = RequestQueue.prototype?.scheduleCheckPendingRequests;
  // The source of the method this replaces: a kafkajs whose method differs gets no patch but an error.
  if (typeof original !== 'function' || !/let scheduleAt = this\.throttledUntil - Date\.now\(\)/.test(original.toString())) {
    throw new Error(MOVED);
  }
  RequestQueue.prototype.scheduleCheckPendingRequests = function scheduleCheckPendingRequests(this: RequestQueue) {
    if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
    const throttled = this.throttledUntil - Date.now();
    this.throttleCheckTimeoutId = setTimeout(() => {
      this.throttleCheckTimeoutId = null;
      this.checkPendingRequests();
    }, throttled > 0 ? throttled : CHECK_PENDING_REQUESTS_INTERVAL_MS);
  };
  requestQueueFixed = true;
}

/**
 * A kafkajs cluster of the client's own (kafkajs's admin keeps its cluster to itself), for the
 * requests the admin sends itself (log offsets, group descriptions): connected on first use and
 * kept until close(), so a wait's polls reuse warm connections and cached metadata. A failed
 * connect is forgotten, so the next call tries again.
 */
export class OwnCluster {
  private cluster?: Promise<Cluster>;
  private isClosed = false;

  constructor(private readonly client: KafkaClient) {}

  /** True once close() was called: a retry now would reconnect and keep the process alive. */
  get closed(): boolean {
    return this.isClosed;
  }

  connected(): Promise<Cluster> {
    if (this.isClosed) return Promise.reject(new Error('the Kafka admin is closed'));
    this.cluster ??= (async () => {
      const cluster = kafkajsInternals().createCluster(this.client, { isolationLevel: READ_UNCOMMITTED });
      try {
        await cluster.connect();
        return cluster;
      } catch (err) {
        await cluster.disconnect().catch(() => undefined);
        throw err;
      }
    })();
    this.cluster.catch(() => (this.cluster = undefined));
    return this.cluster;
  }

  async close(): Promise<void> {
    this.isClosed = true;
    const cluster = this.cluster;
    this.cluster = undefined;
    await (await cluster?.catch(() => undefined))?.disconnect().catch(() => undefined);
  }
}
