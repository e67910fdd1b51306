import os from 'node:os';
import type { KafkaRunLog, RunLogRecord } from '../adapters/kafka-run-log.js';
import { ExitCode, MigrateError, RunLockedError } from '../errors.js';
import { GroupRunLock } from './kafka-lock.js';
import { assertRunName } from './run-name.js';
import { parseRunState, type RunState } from './run-state.js';
import type { RunLock, RunStore } from './store.js';

/** Settings of the Kafka run store. */
export interface KafkaRunStoreOptions {
  /** The compacted topic of run states, keyed by run name. */
  topic: string;
  /** The single-partition topic whose partition 0 each run's lock group hands to one member. */
  lockTopic: string;
  /** How long the group waits for a silent member before giving its lock to a waiter. */
  sessionTimeoutMs: number;
  /** How long `lock` waits for a holder to finish or die; 0 fails at once, like the file store. */
  waitLockMs?: number;
  /** Ends a wait for the lock early (Ctrl-C). */
  signal?: AbortSignal | undefined;
  /** Where the brokers are, for messages. */
  where: string;
}

/** The default lock topic: its groups are named after the run alone. */
export const DEFAULT_LOCK_TOPIC = '__migrate_locks';

/**
 * A RunStore shared by every process that reaches the same Kafka cluster (CI runners, laptops).
 * States are the last record per run name on a compacted single-partition topic, written with
 * acks=all before `write` returns. A run's lock is membership of the consumer group
 * `migrate-lock-<run>`: the member given partition 0 of the lock topic holds it, and the group's
 * session timeout frees it when the holder dies. The lock's protocol is kafka-lock.ts; see
 * docs/state.md for it and its races.
 */
export class KafkaRunStore implements RunStore {
  private session: { log: Promise<KafkaRunLog>; users: number } | undefined;
  private topicsReady: Promise<void> | undefined;
  /** The topic as far as this process has read it: last value per key, and the next offset to read. */
  private view: { records: Map<string, RunLogRecord>; next: number } = { records: new Map(), next: 0 };
  private viewLock: Promise<unknown> = Promise.resolve();
  /** Locks this process holds, and the offset of each run's latest record as it knows it (-1: none). */
  private readonly held = new Map<string, { lock: GroupRunLock; lastSeen: number; writing: Promise<unknown> }>();

  constructor(
    private readonly connect: () => Promise<KafkaRunLog>,
    readonly options: KafkaRunStoreOptions,
  ) {}

  /** The consumer group that is the run's lock. */
  lockGroup(name: string): string {
    const scope = this.options.lockTopic === DEFAULT_LOCK_TOPIC ? '' : `${this.options.lockTopic}-`;
    return `migrate-lock-${scope}${name}`;
  }

  async read(name: string): Promise<RunState | undefined> {
    assertRunName(name);
    const records = await this.use('read run states', (log) => this.catchUp(log));
    const r = records.get(name);
    return r ? this.parse(r) : undefined;
  }

  async list(): Promise<RunState[]> {
    const records = await this.use('read run states', (log) => this.catchUp(log));
    return [...records.values()].map((r) => this.parse(r)).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  async write(state: RunState): Promise<void> {
    assertRunName(state.name);
    const held = this.held.get(state.name);
    await held?.lock.confirmHeld();
    const value = Buffer.from(JSON.stringify(state));
    await this.use(`save run ${state.name}`, async (log) => {
      await this.ensureTopics(log);
      const appended = log.append(this.options.topic, state.name, value);
      // Settles either way: a failed append is thrown below, and this copy of it must not go unhandled (a crash).
      if (held) held.writing = appended.then((offset) => (held.lastSeen = offset), () => undefined);
      const offset = await appended;
      // Our own record extends the view only when nothing unseen lies before it.
      await this.serialized(async () => {
        if (this.view.next === offset) {
          this.view.records.set(state.name, { offset, key: state.name, value });
          this.view.next = offset + 1;
        }
      });
    });
    // A holder that cannot vouch for its lock after the write stops here (the record is written).
    await held?.lock.confirmHeld();
  }

  async lock(name: string): Promise<RunLock> {
    assertRunName(name);
    if (this.held.has(name)) throw new RunLockedError(name, { pid: process.pid, host: os.hostname(), startedAt: 'now' }, `group ${this.lockGroup(name)}`);
    const session = this.open();
    try {
      const log = await session;
      await this.ensureTopics(log);
      const latest = async () => (await this.catchUp(log)).get(name)?.offset ?? -1;
      const lock = await GroupRunLock.acquire(log, {
        run: name,
        group: this.lockGroup(name),
        topic: this.options.lockTopic,
        sessionTimeoutMs: this.options.sessionTimeoutMs,
        waitMs: this.options.waitLockMs ?? 0,
        signal: this.options.signal,
        where: this.options.where,
        // Every holder saves the run's state before it acts: if nobody saved it since, nobody drove it.
        unchangedSince: async () => {
          const entry = this.held.get(name);
          if (!entry) return false;
          await entry.writing;
          return (await latest()) === entry.lastSeen;
        },
      });
      const lastSeen = await latest().catch(async (err: unknown) => {
        await lock.release().catch(() => undefined);
        throw err;
      });
      this.held.set(name, { lock, lastSeen, writing: Promise.resolve() });
      let released = false;
      return {
        release: async () => {
          if (released) return;
          released = true;
          this.held.delete(name);
          try {
            await lock.release();
          } finally {
            await this.close();
          }
        },
      };
    } catch (err) {
      await this.close();
      throw unavailable(`lock run ${name}`, this.options.where, err);
    }
  }

  /** Connections live while a lock is held or a call is under way, and close after the last. */
  private open(): Promise<KafkaRunLog> {
    if (!this.session) {
      const log = this.connect();
      const session = { log, users: 0 };
      this.session = session;
      log.catch(() => {
        if (this.session === session) this.session = undefined;
      });
    }
    this.session.users += 1;
    return this.session.log;
  }

  private async close(): Promise<void> {
    const s = this.session;
    if (!s) return;
    s.users -= 1;
    if (s.users > 0) return;
    this.session = undefined;
    this.topicsReady = undefined;
    await s.log.then((l) => l.close()).catch(() => undefined);
  }

  private async use<T>(what: string, fn: (log: KafkaRunLog) => Promise<T>): Promise<T> {
    const log = this.open();
    try {
      return await fn(await log);
    } catch (err) {
      throw unavailable(what, this.options.where, err);
    } finally {
      await this.close();
    }
  }

  private ensureTopics(log: KafkaRunLog): Promise<void> {
    this.topicsReady ??= (async () => {
      await log.ensureTopic(this.options.topic, { 'cleanup.policy': 'compact' });
      const partitions = await log.partitions(this.options.topic);
      if (partitions !== 1) {
        throw new MigrateError(`topic ${this.options.topic} has ${partitions} partitions; the run store keeps every run in one partition`, ExitCode.badInput, {
          hint: 'name another topic in state.topic of migrate.config.yaml, or recreate this one with 1 partition',
        });
      }
      await log.ensureTopic(this.options.lockTopic, {});
    })().catch((err: unknown) => {
      this.topicsReady = undefined;
      throw err;
    });
    return this.topicsReady;
  }

  /**
   * Reads what others appended since this process last looked, up to the log end as it is now:
   * every write acknowledged before this call is seen. A topic that does not exist holds no runs.
   */
  private catchUp(log: KafkaRunLog): Promise<Map<string, RunLogRecord>> {
    return this.serialized(async () => {
      const { topic } = this.options;
      if ((await log.partitions(topic)) === undefined) return new Map<string, RunLogRecord>();
      const { start, end } = await log.offsets(topic);
      // Below the log start nothing can be read again: begin afresh (the topic was recreated or truncated).
      if (this.view.next < start || this.view.next > end) this.view = { records: new Map(), next: start };
      if (this.view.next < end) {
        const records = this.view.records;
        await log.read(topic, this.view.next, end, (r) => {
          if (r.key === null) return;
          if (r.value === null) records.delete(r.key);
          else records.set(r.key, r);
        });
        this.view.next = end;
      }
      return new Map(this.view.records);
    });
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.viewLock.then(fn, fn);
    this.viewLock = next.catch(() => undefined);
    return next;
  }

  private parse(r: RunLogRecord): RunState {
    const where = `${this.options.topic}@${r.offset} (run ${r.key ?? '?'})`;
    const state = parseRunState(where, (r.value as Buffer).toString('utf8'));
    if (state.name !== r.key) throw new MigrateError(`${where}: the record is keyed ${r.key} but holds run ${state.name}`, ExitCode.badInput);
    return state;
  }
}

/** Kafka could not be reached, or refused: the run cannot go on without its state. */
export class RunStoreUnavailableError extends MigrateError {
  constructor(what: string, where: string, cause: unknown) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(`cannot ${what} in the Kafka run store (${where}): ${message}`, ExitCode.failed, {
      cause,
      hint: 'check that the cluster is up and KAFKA_BROKERS (or kafka.brokers) names it; the run resumes from its last saved step',
    });
  }
}

/** Our own errors pass as they are; anything else from Kafka becomes RunStoreUnavailableError. */
function unavailable(what: string, where: string, err: unknown): unknown {
  return err instanceof MigrateError ? err : new RunStoreUnavailableError(what, where, err);
}
