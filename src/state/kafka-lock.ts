/**
 * The Kafka run store's lock, its whole protocol in one place: what a member of a run's lock group
 * advertises, whom the group's leader gives the lock, and when a holder may trust it. The group
 * mechanics (joining, the assignor, describing who holds partition 0) are the adapter's
 * (src/adapters/kafka-lock-group.ts). See docs/state.md for the protocol and its races.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import type { KafkaRunLog, LockGroupMember, LockGroupMembership } from '../adapters/kafka-run-log.js';
import { ExitCode, MigrateError, RunLockedError, TransientError, type LockHolder } from '../errors.js';
import { formatDuration } from '../util/time.js';

/** The assignor lock members speak: a member speaking another protocol cannot join. */
const LOCK_PROTOCOL = { name: 'MigrateRunLock', version: 1 };

/** What a lock member puts in its metadata: who it is, and whether (and as which member) it holds the lock. */
interface LockMetadata extends LockHolder {
  /** The member id under which this process was given the lock; absent while it waits. */
  heldAs?: string;
}

/**
 * The member that gets the lock: the one holding it, if its claim is current (it was given the lock
 * under the member id it still has: a member evicted and rejoining under a new id claims nothing),
 * else the one waiting longest (earliest startedAt), ties broken by member id.
 */
export function chooseLockHolder(members: { memberId: string; meta: LockMetadata | undefined }[]): string | undefined {
  const holder = members.find((m) => m.meta?.heldAs !== undefined && m.meta.heldAs === m.memberId);
  if (holder) return holder.memberId;
  const queue = [...members].sort(
    (a, b) => (a.meta?.startedAt ?? '\uffff').localeCompare(b.meta?.startedAt ?? '\uffff') || a.memberId.localeCompare(b.memberId),
  );
  return queue[0]?.memberId;
}

function decodeLockMetadata(userData: Buffer | undefined): LockMetadata | undefined {
  if (!userData?.length) return undefined;
  try {
    const meta = JSON.parse(userData.toString('utf8')) as Partial<LockMetadata>;
    if (typeof meta.pid !== 'number' || typeof meta.host !== 'string' || typeof meta.startedAt !== 'string') return undefined;
    return { pid: meta.pid, host: meta.host, startedAt: meta.startedAt, ...(typeof meta.heldAs === 'string' ? { heldAs: meta.heldAs } : {}) };
  } catch {
    return undefined; // a member of another kind: it can hold nothing
  }
}

/** Who holds the lock, as the member with the lock partition advertises itself (or as the coordinator saw it connect). */
function holderOf(member: LockGroupMember): LockHolder {
  const meta = decodeLockMetadata(member.userData);
  return meta ? { pid: meta.pid, host: meta.host, startedAt: meta.startedAt } : { pid: 0, host: member.clientHost, startedAt: 'unknown' };
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

  static async acquire(log: Pick<KafkaRunLog, 'joinLockGroup'>, o: GroupLockOptions): Promise<GroupRunLock> {
    const lock = new GroupRunLock(o);
    await lock.join(log);
    return lock;
  }

  private async join(log: Pick<KafkaRunLog, 'joinLockGroup'>): Promise<void> {
    // Advertised at every join (heldAs as of the last one), so a process that is refused can name the holder.
    const self: LockMetadata = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
    this.membership = await log.joinLockGroup({
      group: this.o.group,
      topic: this.o.topic,
      protocol: LOCK_PROTOCOL,
      userData: () => Buffer.from(JSON.stringify(self)),
      choose: (members) => chooseLockHolder(members.map((m) => ({ memberId: m.memberId, meta: decodeLockMetadata(m.userData) }))),
      sessionTimeoutMs: this.o.sessionTimeoutMs,
      onJoin: (holds, memberId) => {
        if (holds) self.heldAs = memberId;
        else delete self.heldAs;
        this.onJoin(holds, memberId);
      },
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
          const member = await this.membership?.holder();
          const holder = member && holderOf(member);
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

