import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { KafkaRunLog, RunLogRecord } from '../adapters/kafka-run-log.js';
import { ExitCode, MigrateError, RunLockedError, TransientError } from '../errors.js';
import { parseJsonInput } from '../util/json.js';
import { fencedValue, resolveRuns, sessionKey, type FencedWrite, type FenceInput, type ResolvedRun } from './kafka-fence.js';
import { GroupRunLock, RunLockLostError } from './kafka-lock.js';
import { assertRunName } from './run-name.js';
import type { RunState } from './run-state.js';
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
  /** Locks this process holds, and the session each opened when it took the lock (kafka-fence.ts). */
  private readonly held = new Map<string, { lock: GroupRunLock; session: HeldSession }>();

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
    const run = await this.use('read run states', async (log) => this.resolve((await this.catchUp(log)).records, name));
    return run?.state ? (await this.runStateParser())(run.state, name) : undefined;
  }

  async list(): Promise<RunState[]> {
    const records = await this.use('read run states', async (log) => (await this.catchUp(log)).records);
    const runs = [...this.resolveAll(records.values()).values()];
    const parse = await this.runStateParser();
    return runs.flatMap((r) => (r.state ? [parse(r.state, r.run)] : [])).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  /** Records of the run that no reader believes: written by a holder after another claimed the run. */
  async fencedWrites(name: string): Promise<FencedWrite[]> {
    assertRunName(name);
    const run = await this.use('read run states', async (log) => this.resolve((await this.catchUp(log)).records, name));
    return run?.fenced ?? [];
  }

  async write(state: RunState): Promise<void> {
    assertRunName(state.name);
    const held = this.held.get(state.name);
    if (!held) {
      // Nobody holds the run here (an import, a test): the write is a session of one record.
      await this.use(`save run ${state.name}`, async (log) => {
        await this.ensureTopics(log);
        await this.claim(log, state.name, state);
      });
      return;
    }
    await held.lock.confirmHeld();
    const s = held.session;
    s.seq += 1;
    const value = fencedValue(state, { token: s.token, seq: s.seq, claim: s.claim });
    await this.use(`save run ${state.name}`, async (log) => {
      const offset = await log.append(this.options.topic, s.key, value);
      if (await this.extendView(s.key, offset, value)) return;
      // Others wrote meanwhile: our record counts only if nobody claimed the run before it.
      const now = this.resolve((await this.catchUp(log)).records, state.name);
      if (now?.session.key !== s.key) {
        throw new RunLockLostError(state.name, `another process claimed the run (fencing token ${now?.session.token ?? '?'}); this write, at offset ${offset}, is fenced and every reader ignores it`);
      }
    });
    // A holder that cannot vouch for its lock after the write stops here (the record is written).
    await held.lock.confirmHeld();
  }

  async lock(name: string): Promise<RunLock> {
    assertRunName(name);
    if (this.held.has(name)) throw new RunLockedError(name, { pid: process.pid, host: os.hostname(), startedAt: 'now' }, `group ${this.lockGroup(name)}`);
    const session = this.open();
    try {
      const log = await session;
      await this.ensureTopics(log);
      const lock = await GroupRunLock.acquire(log, {
        run: name,
        group: this.lockGroup(name),
        topic: this.options.lockTopic,
        sessionTimeoutMs: this.options.sessionTimeoutMs,
        waitMs: this.options.waitLockMs ?? 0,
        signal: this.options.signal,
        where: this.options.where,
        // Given the lock again under a new member id: ours only if nobody claimed the run meanwhile.
        unchangedSince: async () => {
          const entry = this.held.get(name);
          if (!entry) return false;
          return this.resolve((await this.catchUp(log)).records, name)?.session.key === entry.session.key;
        },
      });
      const opened = await this.claim(log, name, undefined).catch(async (err: unknown) => {
        await lock.release().catch(() => undefined);
        throw err;
      });
      this.held.set(name, { lock, session: opened });
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

  keepOpen(): () => Promise<void> {
    this.open().catch(() => undefined); // a failed connect is told by the next call, which connects again
    const session = this.session;
    let released = false;
    return async () => {
      // A session whose connect failed was dropped already: its count is not the current one's.
      if (released || this.session !== session) return;
      released = true;
      await this.close();
    };
  }

  /** Connections live while a lock is held, a call is under way or keepOpen holds them, and close after the last. */
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
   * Opens a session for the run (kafka-fence.ts): appends a claim at the log end as read now,
   * carrying `state` or else the state the run has, and checks that no other claim slipped in
   * between the read and the claim. One that did (a holder that lost its lock and whose claim was
   * held up) makes us claim again, later. Then the older sessions' keys are tombstoned: compaction
   * keeps one record per run and holder, and the claim holds all they said.
   */
  private async claim(log: KafkaRunLog, name: string, state: RunState | undefined): Promise<HeldSession> {
    const { topic } = this.options;
    for (let attempt = 1; ; attempt++) {
      const { records, end } = await this.catchUp(log);
      const inherited = state ?? this.stateDocument(this.resolve(records, name));
      const key = sessionKey(name, end, randomBytes(4).toString('hex'));
      const value = fencedValue(inherited, { token: end, seq: 0 });
      const offset = await log.append(topic, key, value);
      await this.extendView(key, offset, value);
      const now = this.resolve((await this.catchUp(log)).records, name);
      if (now?.session.key === key) {
        for (const old of now.superseded) await this.extendView(old, await log.append(topic, old, null), null);
        return { key, token: end, claim: offset, seq: 0 };
      }
      if (attempt >= 5) throw new TransientError(`run ${name}: another process claimed it at every attempt to claim it (${attempt} attempts)`);
    }
  }

  /** A resolved run's state as a JSON document, without its fence, for a new session to carry. */
  private stateDocument(run: ResolvedRun | undefined): Record<string, unknown> | undefined {
    if (!run?.state) return undefined;
    const doc = JSON.parse(run.state.value.toString('utf8')) as Record<string, unknown>;
    delete doc['fence'];
    return doc;
  }

  /** Our own record extends the view only when nothing unseen lies before it; true when it did. */
  private extendView(key: string, offset: number, value: Buffer | null): Promise<boolean> {
    return this.serialized(async () => {
      if (this.view.next !== offset) return false;
      if (value === null) this.view.records.delete(key);
      else this.view.records.set(key, { offset, key, value });
      this.view.next = offset + 1;
      return true;
    });
  }

  /** The run's records resolved by their fences; a record that cannot be read is bad input, named by offset. */
  private resolve(records: Map<string, RunLogRecord>, name: string): ResolvedRun | undefined {
    const mine = [...records.values()].filter((r) => r.key === name || r.key?.startsWith(`${name}@`));
    return this.resolveAll(mine).get(name);
  }

  private resolveAll(records: Iterable<RunLogRecord>): Map<string, ResolvedRun> {
    const inputs: FenceInput[] = [];
    for (const r of records) if (r.key !== null && r.value !== null) inputs.push({ offset: r.offset, key: r.key, value: r.value });
    return resolveRuns(inputs, (r, why) => {
      const where = `${this.options.topic}@${r.offset} (key ${r.key})`;
      parseJsonInput(where, r.value.toString('utf8'), 'state record', 'the run store only reads records migrate wrote');
      throw new MigrateError(`${where}: ${why}`, ExitCode.badInput);
    });
  }

  /**
   * Reads what others appended since this process last looked, up to the log end as it is now:
   * every write acknowledged before this call is seen. A topic that does not exist holds no runs.
   * Returns the last record per key, and the log end it read to.
   */
  private catchUp(log: KafkaRunLog): Promise<{ records: Map<string, RunLogRecord>; end: number }> {
    return this.serialized(async () => {
      const { topic } = this.options;
      if ((await log.partitions(topic)) === undefined) return { records: new Map<string, RunLogRecord>(), end: 0 };
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
      return { records: new Map(this.view.records), end };
    });
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.viewLock.then(fn, fn);
    this.viewLock = next.catch(() => undefined);
    return next;
  }

  /** Reads a run's record as a RunState; zod (run-state.js) loads only now, with the first record to parse. */
  private async runStateParser(): Promise<(r: FenceInput, run: string) => RunState> {
    const { parseRunState } = await import('./run-state.js');
    return (r, run) => {
      const where = `${this.options.topic}@${r.offset} (run ${run})`;
      const state = parseRunState(where, r.value.toString('utf8'));
      if (state.name !== run) throw new MigrateError(`${where}: the record is keyed ${r.key} but holds run ${state.name}`, ExitCode.badInput);
      return state;
    };
  }
}

/** The session a holder opened when it took a run's lock: its key, fencing token, claim offset and last sequence. */
interface HeldSession {
  key: string;
  token: number;
  claim: number;
  seq: number;
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
