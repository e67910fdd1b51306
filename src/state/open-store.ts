import { connectRunLog } from '../adapters/kafka-connect.js';
import { KafkaNotConfiguredError, type Config } from '../config.js';
import { RunLockedError, UsageError } from '../errors.js';
import { parseDuration, sleep } from '../util/time.js';
import { FileRunStore } from './file-store.js';
import { LockWaitInterruptedError } from './kafka-lock.js';
import { KafkaRunStore } from './kafka-store.js';
import type { RunStore } from './store.js';

/** Which store, and how `lock` behaves. */
export interface OpenRunStoreOptions {
  /** Overrides config.state.store (state export/import name the other store). */
  store?: 'file' | 'kafka';
  /** --wait-lock: how long `lock` waits for another process to finish or die (e.g. "10m"); absent: fail at once. */
  waitLock?: string | undefined;
  /** Ends a wait for the lock early (Ctrl-C): it then fails with exit code 130. */
  signal?: AbortSignal | undefined;
}

/** The RunStore the configuration names: the file store in stateDir (default) or the shared Kafka store. */
export function openRunStore(config: Config, o: OpenRunStoreOptions = {}): RunStore {
  const waitLockMs = o.waitLock === undefined ? 0 : parseWaitLock(o.waitLock);
  const kind = o.store ?? config.state.store;
  if (kind === 'file') return withLockWait(new FileRunStore(config.stateDir), waitLockMs, o.signal);
  const connection = config.kafka;
  if (!connection) throw new KafkaNotConfiguredError();
  const { topic, lockTopic, sessionTimeoutMs } = config.state;
  // kafkajs loads on the first call that reaches the cluster (connectRunLog), not here: `status` of an empty store stays cheap to start.
  return new KafkaRunStore(() => connectRunLog(connection), {
    topic,
    lockTopic,
    sessionTimeoutMs,
    waitLockMs,
    signal: o.signal,
    where: connection.brokers.join(','),
  });
}

/** One line naming where a store keeps runs, for messages. */
export function describeRunStore(config: Config, kind: 'file' | 'kafka' = config.state.store): string {
  if (kind === 'file') return `the file store ${config.stateDir}`;
  return `Kafka topic ${config.state.topic} at ${config.kafka?.brokers.join(',') ?? '(no brokers)'}`;
}

function parseWaitLock(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`--wait-lock: "${text}" is not a duration`, 'e.g. --wait-lock 10m, --wait-lock 90s');
  return ms;
}

/** How often the file store's lock is tried again while waiting: it has no way to be told. */
const FILE_LOCK_POLL_MS = 500;

/** The file store's lock fails at once; with --wait-lock it is tried again until the time is up. */
function withLockWait(store: FileRunStore, waitMs: number, signal: AbortSignal | undefined): RunStore {
  if (waitMs <= 0) return store;
  return {
    read: (name) => store.read(name),
    list: () => store.list(),
    write: (state) => store.write(state),
    lock: async (name) => {
      const deadline = Date.now() + waitMs;
      for (;;) {
        try {
          return await store.lock(name);
        } catch (err) {
          if (!(err instanceof RunLockedError) || Date.now() + FILE_LOCK_POLL_MS > deadline) throw err;
        }
        await sleep(FILE_LOCK_POLL_MS, signal).catch(() => {
          throw new LockWaitInterruptedError(name);
        });
      }
    },
  };
}
