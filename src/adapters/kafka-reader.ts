/**
 * Reads a topic from given offsets without a consumer group: Fetch requests straight to each
 * partition's leader, as `kcat -C` and the Java consumer's assign() do. kafkajs has no assign(),
 * so its consumer needs a throwaway group (a join, heartbeats, a group to delete: hundreds of ms
 * and once a 10 s wait), and its record decoding dominates a read of many small events. This
 * reader keeps kafkajs for everything but that: connections, TLS/SASL, metadata, versions,
 * retries of metadata calls. It sends kafkajs's own Fetch request through the broker's
 * connection pool and decodes the answer with kafka-records.ts.
 *
 * It reaches into kafkajs 2.2.4 internals (kafka-internals.ts), which fail loudly if they moved.
 */
import type { Kafka as KafkaClient } from 'kafkajs';
import { isTransient } from '../errors.js';
import type { RecordChunk, TopicReader } from './kafka.js';
import { kafkajsInternals, rawResponse, READ_COMMITTED, type RequestDefinition } from './kafka-internals.js';
import { decodeFetchResponse, nextFetchOffset, type FetchResponse } from './kafka-records.js';

/** How long the broker may hold a fetch that has nothing new; also what close() waits at most for the fetch in flight. */
const MAX_WAIT_MS = 100;
/** Per partition and per response, as kafkajs's consumer defaults (1 MB, 10 MB). */
const PARTITION_MAX_BYTES = 1024 * 1024;
const RESPONSE_MAX_BYTES = 10 * 1024 * 1024;
const OFFSET_OUT_OF_RANGE = 1;

interface FetchArgs {
  isolationLevel: number;
  maxWaitTime: number;
  minBytes: number;
  maxBytes: number;
  topics: { topic: string; partitions: { partition: number; fetchOffset: string; maxBytes: number }[] }[];
}

/**
 * Starts reading `topic` from `from` (partition -> offset); `onChunk` gets the record batches of
 * each partition in offset order (decode them with forEachRecord). When it returns a promise, the
 * next chunk waits for it: that is how a slower consumer of chunks holds the reading back.
 * `translate` turns client errors into ours (connection trouble is transient).
 */
export async function startTopicReader(
  client: KafkaClient,
  topic: string,
  from: Record<number, number>,
  onChunk: (chunk: RecordChunk) => void | Promise<void>,
  translate: (what: string, err: unknown) => Error,
): Promise<TopicReader> {
  const kafkajs = kafkajsInternals();
  const cluster = kafkajs.createCluster(client, { isolationLevel: READ_COMMITTED });
  try {
    await cluster.connect();
    await cluster.addTargetTopic(topic);
  } catch (err) {
    await cluster.disconnect().catch(() => undefined);
    throw translate(`read ${topic}`, err);
  }
  /** Where the next fetch of each partition starts (ahead of `delivered` while a fetch is in flight). */
  const fetchAt = new Map<number, number>(Object.entries(from).map(([p, o]) => [Number(p), o]));
  /** The next offset to be handed to onRecord. */
  const delivered = new Map(fetchAt);
  let closed = false;
  let failure: Error | undefined;

  async function fetchAll(): Promise<FetchResponse[]> {
    const byLeader = cluster.findLeaderForPartitions(topic, [...fetchAt.keys()]);
    return Promise.all(
      Object.entries(byLeader).map(async ([nodeId, partitions]) => {
        const broker = await cluster.findBroker({ nodeId });
        const request = broker.lookupRequest(kafkajs.apiKeys.Fetch as number, kafkajs.requests.Fetch as RequestDefinition<FetchArgs>)({
          isolationLevel: READ_COMMITTED,
          maxWaitTime: MAX_WAIT_MS,
          minBytes: 1,
          maxBytes: RESPONSE_MAX_BYTES,
          topics: [{ topic, partitions: partitions.map((partition) => ({ partition, fetchOffset: String(fetchAt.get(partition)), maxBytes: PARTITION_MAX_BYTES })) }],
        });
        try {
          const payload = (await broker.connectionPool.send({ ...request, response: rawResponse })) as Buffer;
          return decodeFetchResponse(request.request.apiVersion, payload);
        } catch (err) {
          if ((err as { name?: string }).name === 'KafkaJSConnectionClosedError') await broker.disconnect().catch(() => undefined);
          throw err;
        }
      }),
    );
  }

  /** Moves partitions whose offset fell out of the log (retention) to the log start, or the end when past it. */
  async function resetOutOfRange(partitions: number[]): Promise<void> {
    const query = (fromBeginning: boolean) => cluster.fetchTopicsOffset([{ topic, fromBeginning, partitions: partitions.map((partition) => ({ partition })) }]);
    const [earliest, latest] = await Promise.all([query(true), query(false)]);
    for (const partition of partitions) {
      const low = Number(earliest[0]?.partitions.find((p) => p.partition === partition)?.offset ?? 0);
      const high = Number(latest[0]?.partitions.find((p) => p.partition === partition)?.offset ?? 0);
      const at = fetchAt.get(partition) ?? 0;
      const next = at < low ? low : Math.min(at, high);
      fetchAt.set(partition, next);
      delivered.set(partition, next);
    }
  }

  async function loop(): Promise<void> {
    let inFlight: Promise<FetchResponse[]> | undefined;
    let attempt = 0;
    while (!closed) {
      try {
        const responses = await (inFlight ?? fetchAll());
        inFlight = undefined;
        if (closed) return;
        const ready: RecordChunk[] = [];
        const outOfRange: number[] = [];
        let retry: Error | undefined;
        for (const response of responses) {
          if (response.errorCode) throw kafkajs.errorFromCode(response.errorCode);
          for (const t of response.topics) {
            for (const p of t.partitions) {
              if (p.errorCode === OFFSET_OUT_OF_RANGE) outOfRange.push(p.partition);
              else if (p.errorCode) {
                const err = kafkajs.errorFromCode(p.errorCode);
                if (!err.retriable) throw err;
                retry = err;
              } else if (p.records) {
                const start = fetchAt.get(p.partition) ?? 0;
                fetchAt.set(p.partition, nextFetchOffset(p.records, start));
                ready.push({ partition: p.partition, records: p.records, from: start, aborted: p.aborted });
              }
            }
          }
        }
        if (outOfRange.length) await resetOutOfRange(outOfRange);
        if (retry) throw retry;
        // The next fetch goes out before these records are handed over, so the broker works
        // while we check them. setImmediate lets kafkajs put the request on the wire first.
        if (ready.length) {
          inFlight = fetchAll();
          inFlight.catch(() => undefined); // awaited on the next turn; an early rejection is not unhandled
          await new Promise((resolve) => setImmediate(resolve));
        }
        for (const chunk of ready) {
          const pending = onChunk(chunk);
          if (pending) await pending;
          delivered.set(chunk.partition, fetchAt.get(chunk.partition) ?? chunk.from);
        }
        attempt = 0;
      } catch (err) {
        inFlight = undefined;
        if (closed) return;
        const e = err as { retriable?: boolean; name?: string };
        // kafkajs wraps a refused connection (a broker restarting) in NumberOfRetriesExceeded, which
        // says "not retriable": ask translate, which looks at the cause, so the reader rides out a restart.
        const retriable = e.retriable || /Connection|Timeout|NotFound|Metadata/.test(e.name ?? '') || isTransient(translate(`read ${topic}`, err));
        if (!retriable) {
          failure = translate(`read ${topic}`, err);
          return;
        }
        // Leaders move, connections drop: refresh what kafkajs knows and go on, backing off.
        attempt += 1;
        await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 100 * 2 ** attempt)));
        await cluster.refreshMetadata().catch(() => undefined);
      }
    }
  }

  const running = loop().catch((err: unknown) => {
    failure = translate(`read ${topic}`, err);
  });
  return {
    position: () => Object.fromEntries(delivered),
    failure: () => failure,
    close: async () => {
      closed = true;
      await cluster.disconnect().catch(() => undefined);
      await running;
    },
  };
}
