/**
 * The kafkajs 2.2.4 internals that the adapter uses where kafkajs's public API has no call for what
 * it needs (a Fetch without a group, requests kafkajs does not implement): the client's private
 * createCluster, a broker's lookupRequest and connectionPool, the protocol's request definitions,
 * API keys, error codes and encoder. kafkajs is pinned to exactly 2.2.4 in package.json; a kafkajs
 * upgrade must re-check these, and `kafkajsInternals()` fails loudly if they moved.
 */
import { createRequire } from 'node:module';
import type { Kafka as KafkaClient } from 'kafkajs';

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

/** A broker of kafkajs's cluster. */
export interface Broker {
  nodeId: number;
  versions: Record<number, { minVersion: number; maxVersion: number }> | null;
  lookupRequest<A>(apiKey: number, definition: RequestDefinition<A> | unknown): (args: A) => ProtocolRequest;
  connectionPool: { send(request: ProtocolRequest): Promise<unknown> };
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
}

let internals: Internals | undefined;

const MOVED = 'the installed kafkajs does not have the internals migrate uses (kafkajs 2.2.4 does); reinstall migrate with its pinned kafkajs';

/** The kafkajs internals, found once; throws a clear error when this kafkajs does not have them. */
export function kafkajsInternals(): Internals {
  if (internals) return internals;
  const require = createRequire(import.meta.url);
  const { requests } = require('kafkajs/src/protocol/requests/index.js') as { requests: Record<string, unknown> };
  const apiKeys = require('kafkajs/src/protocol/requests/apiKeys.js') as Record<string, number>;
  const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as { createErrorFromCode: Internals['errorFromCode'] };
  const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => KafkajsEncoder;
  if (!requests.Fetch || typeof apiKeys.Fetch !== 'number' || typeof createErrorFromCode !== 'function' || typeof Encoder !== 'function') {
    throw new Error(MOVED);
  }
  if (typeof (new Encoder() as Partial<KafkajsEncoder>).writeUVarIntString !== 'function') throw new Error(MOVED);
  const BrokerClass = require('kafkajs/src/broker/index.js') as { prototype?: Partial<Broker> };
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
  };
  return internals;
}

/** Hands the raw response body (after the correlation id) to the caller instead of a kafkajs decoder. */
export const rawResponse: ProtocolRequest['response'] = {
  decode: async (payload) => payload,
  parse: async (data) => data,
};
