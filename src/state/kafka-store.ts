import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { LockGroupMembership, LockMemberInfo, StateLog, StateRecord } from '../adapters/kafka-state.js';
import { ExitCode, MigrateError, RunLockedError, TransientError, type LockHolder } from '../errors.js';
import { formatDuration } from '../util/time.js';
import { parseRunState } from './file-store.js';
import type { RunState } from './run-state.js';
import { assertRunName } from './run-name.js';
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
 * session timeout frees it when the holder dies. See docs/state.md for the protocol and its races.
 */
export class KafkaRunStore implements RunStore {
  private session: { log: Promise<StateLog>; users: number } | undefined;
  private topicsReady: Promise<void> | undefined;
  /** The topic as far as this process has read it: last value per key, and the next offset to read. */
  private view: { records: Map<string, StateRecord>; next: number } = { records: new Map(), next: 0 };
  private viewLock: Promise<unknown> = Promise.resolve();
  /** Locks this process holds, and the offset of each run's latest record as it knows it (-1: none). */
  private readonly held = new Map<string, { lock: GroupRunLock; lastSeen: number; writing: Promise<unknown> }>();

  constructor(
    private readonly connect: () => Promise<StateLog>,
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
      if (held) held.writing = appended.then((offset) => (held.lastSeen = offset));
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
          await entry.writing.catch(() => undefined);
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
  private open(): Promise<StateLog> {
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

  private async use<T>(what: string, fn: (log: StateLog) => Promise<T>): Promise<T> {
    const log = this.open();
    try {
      return await fn(await log);
    } catch (err) {
      throw unavailable(what, this.options.where, err);
    } finally {
      await this.close();
    }
  }

  private ensureTopics(log: StateLog): Promise<void> {
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
  private catchUp(log: StateLog): Promise<Map<string, StateRecord>> {
    return this.serialized(async () => {
      const { topic } = this.options;
      if ((await log.partitions(topic)) === undefined) return new Map<string, StateRecord>();
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

  private parse(r: StateRecord): RunState {
    const where = `${this.options.topic}@${r.offset} (run ${r.key ?? '?'})`;
    const state = parseRunState(where, (r.value as Buffer).toString('utf8'));
    if (state.name !== r.key) throw new MigrateError(`${where}: the record is keyed ${r.key} but holds run ${state.name}`, ExitCode.badInput);
    return state;
  }
}

/** Settings of one lock acquisition. */
interface GroupLockOptions {
  run: string;
  group: string;
  topic: string;
  sessionTimeoutMs: number;
  waitMs: number;
  signal?: AbortSignal | undefined;
  where: string;
  /** Whether the run's state is as this holder left it: nobody else saved it meanwhile. */
  unchangedSince(): Promise<boolean>;
}

/** How soon a lock holder back in the group asks again whether the run's state is unchanged, after a transient error. */
const RECHECK_RETRY_MS = 500;

/**
 * A run lock as membership of the run's consumer group. Times are on the monotonic clock. Acquired at the first join that hands this
 * member the lock partition. Confirmed by every heartbeat the coordinator accepts (it accepts them
 * only from a member of the current generation, and the partition moves only in a new one) and by
 * every join that gives it again to the same member. Lost at a join that does not. A join that
 * gives it back under a new member id (the client dropped out, say while a broker restarted) keeps
 * it only if nobody saved the run's state in between: whoever held the lock meanwhile would have.
 */
export class GroupRunLock {
  private state: 'joining' | 'waiting' | 'held' | 'rechecking' | 'lost' | 'released' = 'joining';
  private lostBecause = '';
  /** The member id under which the coordinator gave this process the lock. */
  private memberId: string | undefined;
  /** When the coordinator last confirmed this member holds the lock. */
  private confirmedAt = 0;
  private waiters: (() => void)[] = [];
  private membership: LockGroupMembership | undefined;

  private constructor(private readonly o: GroupLockOptions) {}

  /** A holder trusts its lock this long after the last confirmation: safely inside the session timeout. */
  get leaseMs(): number {
    return Math.floor(this.o.sessionTimeoutMs * 0.8);
  }

  static async acquire(log: StateLog, o: GroupLockOptions): Promise<GroupRunLock> {
    const lock = new GroupRunLock(o);
    await lock.join(log);
    return lock;
  }

  private async join(log: StateLog): Promise<void> {
    const member: LockMemberInfo = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
    this.membership = await log.joinLockGroup({
      group: this.o.group,
      topic: this.o.topic,
      member,
      sessionTimeoutMs: this.o.sessionTimeoutMs,
      onJoin: (holds, memberId) => this.onJoin(holds, memberId),
      onHeartbeat: () => {
        if (this.state === 'held') this.confirm();
      },
      onCrash: () => undefined, // the client rejoins by itself; joins and the lease decide meanwhile
    });
    try {
      await this.awaitHeld();
    } catch (err) {
      await this.membership.leave().catch(() => undefined);
      throw err;
    }
  }

  private onJoin(holds: boolean, memberId: string): void {
    if (this.state === 'joining' || this.state === 'waiting') {
      this.state = holds ? 'held' : 'waiting';
      if (holds) {
        this.memberId = memberId;
        this.confirmedAt = performance.now();
      }
    } else if (this.state === 'held' || this.state === 'rechecking') {
      if (!holds) this.markLost('the lock group gave the lock to another member');
      else if (memberId !== this.memberId) this.recheck(memberId);
      else if (this.state === 'held') this.confirm();
    }
    this.wake();
  }

  /**
   * Given the lock again under a new member id: keep it only if the run's state is as we left it.
   * A check that fails on a transient error is tried again (for up to three session timeouts, as
   * long as a write waits for a confirmation): a broker that just died drops the member out of
   * the group, and for the seconds its partitions take to fail over, reading the state topic's
   * offsets can fail too (seen on a 3-node cluster: ECONNREFUSED from the dead leader). Nothing is
   * written meanwhile, so asking again is as safe as asking once.
   */
  private recheck(memberId: string, deadline = performance.now() + 3 * this.o.sessionTimeoutMs): void {
    this.state = 'rechecking';
    this.memberId = memberId;
    const current = () => this.state === 'rechecking' && this.memberId === memberId;
    this.o.unchangedSince().then(
      (unchanged) => {
        if (!current()) return;
        if (!unchanged) return this.markLost('another process saved the run while this one was out of the lock group');
        this.state = 'held';
        this.confirm();
      },
      (err: unknown) => {
        if (!current()) return;
        if (err instanceof TransientError && performance.now() < deadline) {
          setTimeout(() => current() && this.recheck(memberId, deadline), RECHECK_RETRY_MS).unref();
          return;
        }
        this.markLost(`this process dropped out of the lock group and could not check the run's state since (${err instanceof Error ? err.message : String(err)})`);
      },
    );
  }

  private confirm(): void {
    this.confirmedAt = performance.now();
    this.wake();
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves once held; fails fast (waitMs 0) or after waitMs with RunLockedError naming the holder. */
  private async awaitHeld(): Promise<void> {
    const started = performance.now();
    // Joining itself may take a rebalance: the holder rejoins at its next heartbeat.
    const joinDeadline = started + Math.max(30_000, 3 * this.o.sessionTimeoutMs);
    let deadline = started + this.o.waitMs;
    let graced = false;
    const onAbort = () => this.wake();
    this.o.signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (this.holds()) return;
        if (this.o.signal?.aborted) throw new LockWaitInterruptedError(this.o.run);
        if (this.state === 'joining') {
          if (!(await this.change(joinDeadline - performance.now()))) {
            throw new TransientError(`could not join lock group ${this.o.group} at ${this.o.where} within ${formatDuration(joinDeadline - started)}`);
          }
          continue;
        }
        // Waiting: someone else holds it, or it is between holders.
        if (performance.now() >= deadline) {
          const holder = await this.membership?.holder();
          if (this.holds()) return; // given the lock while we asked
          if (holder || graced) throw new RunLockedInGroupError(this.o.run, holder, this.o);
          // Nobody holds it: the last holder just left, and the rebalance that hands it on is under way.
          graced = true;
          deadline = performance.now() + Math.max(2000, this.o.sessionTimeoutMs / 2);
          continue;
        }
        await this.change(deadline - performance.now());
      }
    } finally {
      this.o.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Waits for the next join or confirmation, up to `ms`; false when none came. */
  private change(ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(false);
      }, ms);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.waiters.push(wake);
    });
  }

  private holds(): boolean {
    return this.state === 'held';
  }

  private markLost(why: string): void {
    if (this.state !== 'held' && this.state !== 'rechecking') return;
    this.state = 'lost';
    this.lostBecause = why;
    this.wake();
    // Out of the group at once, so a waiter is not kept waiting on a member that no longer counts.
    void this.membership?.leave().catch(() => undefined);
  }

  /**
   * Resolves when this process can vouch for the lock: confirmed within the lease. When the last
   * confirmation is older (the coordinator unreachable, a broker restarting), waits for the next
   * one, up to a session timeout; throws RunLockLostError when the lock is lost or stays unconfirmed.
   */
  async confirmHeld(): Promise<void> {
    // A broker restart takes seconds, then a rejoin up to a session timeout; beyond this, give up.
    const deadline = performance.now() + 3 * this.o.sessionTimeoutMs;
    while (this.state === 'rechecking' || (this.holds() && performance.now() - this.confirmedAt > this.leaseMs)) {
      if (!(await this.change(deadline - performance.now()))) {
        this.markLost(`the group coordinator has not confirmed the lock for ${formatDuration(performance.now() - this.confirmedAt)}`);
      }
    }
    if (this.state === 'lost') throw new RunLockLostError(this.o.run, this.lostBecause);
    if (this.state !== 'held') throw new RunLockLostError(this.o.run, 'the lock was released');
  }

  async release(): Promise<void> {
    if (this.state === 'released') return;
    this.state = 'released';
    this.wake();
    await this.membership?.leave();
  }
}

/** The run is locked by another process, as its lock group says. */
export class RunLockedInGroupError extends RunLockedError {
  override readonly hint: string;
  constructor(run: string, holder: LockHolder | undefined, o: { group: string; sessionTimeoutMs: number; waitMs: number }) {
    super(run, holder ?? { pid: 0, host: 'unknown', startedAt: 'unknown' }, `group ${o.group}`);
    this.name = 'RunLockedError';
    const waited = o.waitMs > 0 ? `it was still held after waiting ${formatDuration(o.waitMs)}; ` : '';
    this.hint = `${waited}the lock (consumer group ${o.group}) frees itself ${formatDuration(o.sessionTimeoutMs)} after its holder dies; wait for it with migrate run ... --wait-lock 10m`;
  }
}

/** Ctrl-C while waiting for a run's lock: nothing was done, nothing needs saving. */
export class LockWaitInterruptedError extends MigrateError {
  constructor(run: string) {
    super(`interrupted while waiting for the lock of run ${run}`, ExitCode.interrupted, { hint: 'nothing was done; run it again to wait again' });
  }
}

/** This process held the run's lock and can no longer vouch for it: another may be driving the run. */
export class RunLockLostError extends MigrateError {
  constructor(run: string, why: string) {
    super(`lost the lock of run ${run}: ${why}`, ExitCode.locked, {
      hint: `another process may be driving it now; see migrate status ${run}, and run it again to resume once it is free`,
    });
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
