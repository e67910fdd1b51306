// The Kafka run store's own logic on a fake of its adapter interface (KafkaRunLog): last value per
// key, catching up on what others wrote, acknowledged writes, and the lock's state machine. The
// real broker is exercised in test/integration/kafka-store.test.ts and test/e2e/shared-store.test.ts.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { KafkaRunLog, LockGroupMember, LockGroupMembership, LockGroupOptions, RunLogRecord } from '../../src/adapters/kafka-run-log.js';
import type { RunEvent } from '../../src/engine/events.js';
import { executeRun } from '../../src/engine/execute.js';
import { loadConfig } from '../../src/config.js';
import { KafkaNotConfiguredError } from '../../src/errors.js';
import { InvalidInputError, RunLockedError, TransientError, UsageError } from '../../src/errors.js';
import { chooseLockHolder, LockWaitInterruptedError, RunLockLostError } from '../../src/state/kafka-lock.js';
import { KafkaRunStore, RunStoreUnavailableError } from '../../src/state/kafka-store.js';
import { FileRunStore } from '../../src/state/file-store.js';
import { openRunStore } from '../../src/state/open-store.js';
import type { RunState } from '../../src/state/run-state.js';
import type { StepType } from '../../src/steps/contract.js';
import { boundPlaybook } from '../support/bound-playbook.js';

/** A lock group as its coordinator sees it: members in join order, one of them holding partition 0. */
class FakeGroup {
  members: { o: LockGroupOptions; id: number }[] = [];
  holder: number | undefined;
  private nextId = 1;

  join(o: LockGroupOptions): number {
    const id = this.nextId++;
    this.members.push({ o, id });
    this.rebalance();
    return id;
  }
  leave(id: number): void {
    this.members = this.members.filter((m) => m.id !== id);
    if (this.holder === id) this.holder = undefined;
    this.rebalance();
  }
  /** The coordinator's view: the holder stays; else the first member gets it. Everyone hears of the new generation. */
  private rebalance(): void {
    if (this.holder === undefined) this.holder = this.members[0]?.id;
    const snapshot = [...this.members];
    queueMicrotask(() => {
      for (const m of snapshot) m.o.onJoin(m.id === this.holder, `member-${m.id}`);
    });
  }
  holderInfo(): LockGroupMember | undefined {
    const m = this.members.find((m) => m.id === this.holder);
    return m && { memberId: `member-${m.id}`, clientHost: 'fake', userData: m.o.userData() };
  }
}

/** KafkaRunLog in memory: one partition per topic, offsets that only grow, acks that can be held back. */
class FakeLog implements KafkaRunLog {
  readonly topics = new Map<string, RunLogRecord[]>();
  readonly groups = new Map<string, FakeGroup>();
  reads = 0;
  closed = 0;
  /** Resolves each append's ack; by default at once. */
  ack: () => Promise<void> = async () => undefined;

  constructor(shared?: FakeLog) {
    if (shared) {
      this.topics = shared.topics;
      this.groups = shared.groups;
    }
  }
  async ensureTopic(topic: string): Promise<void> {
    if (!this.topics.has(topic)) this.topics.set(topic, []);
  }
  async partitions(topic: string): Promise<number | undefined> {
    return this.topics.has(topic) ? 1 : undefined;
  }
  async offsets(topic: string): Promise<{ start: number; end: number }> {
    const records = this.topics.get(topic) ?? [];
    const end = records.length ? (records[records.length - 1] as RunLogRecord).offset + 1 : 0;
    return { start: records[0]?.offset ?? end, end };
  }
  async read(topic: string, from: number, to: number, onRecord: (r: RunLogRecord) => void): Promise<void> {
    this.reads += 1;
    for (const r of this.topics.get(topic) ?? []) if (r.offset >= from && r.offset < to) onRecord(r);
  }
  async append(topic: string, key: string, value: Buffer | null): Promise<number> {
    await this.ack();
    const records = this.topics.get(topic) as RunLogRecord[];
    const offset = (await this.offsets(topic)).end;
    records.push({ offset, key, value });
    return offset;
  }
  async joinLockGroup(o: LockGroupOptions): Promise<LockGroupMembership> {
    let group = this.groups.get(o.group);
    if (!group) this.groups.set(o.group, (group = new FakeGroup()));
    const g = group;
    const id = g.join(o);
    return { holder: async () => g.holderInfo(), leave: async () => g.leave(id) };
  }
  async close(): Promise<void> {
    this.closed += 1;
  }
  /** The latest state of a run in the topic, as a reader from the beginning would see it. */
  latest(topic: string, run: string): RunState | undefined {
    // Every holder writes under a key of its own (<run>@<token>.<nonce>); this fake log has no late writes.
    const last = (this.topics.get(topic) ?? []).filter((r) => r.key?.split('@')[0] === run && r.value !== null).at(-1);
    return last?.value ? (JSON.parse(last.value.toString('utf8')) as RunState) : undefined;
  }
}

const options = { topic: 'runs', lockTopic: 'locks', sessionTimeoutMs: 6000, where: 'fake:9092' };

function store(log: KafkaRunLog, extra: Partial<ConstructorParameters<typeof KafkaRunStore>[1]> = {}): KafkaRunStore {
  return new KafkaRunStore(async () => log, { ...options, ...extra });
}

function state(name: string, updatedAt = new Date().toISOString(), status: RunState['status'] = 'running'): RunState {
  return {
    version: 1,
    name,
    playbook: { name: 'pb', ref: 'pb', file: 'pb.yaml', checksum: 'abc' },
    params: {},
    paramsChecksum: 'def',
    status,
    createdAt: updatedAt,
    updatedAt,
    steps: [
      { id: 'a', uses: 'test.ok', status: 'pending', attempts: 0 },
      { id: 'b', uses: 'test.ok', status: 'pending', attempts: 0 },
    ],
    history: [],
  };
}

describe('KafkaRunStore: states', () => {
  it('keeps the last value per run, and a tombstone deletes', async () => {
    const log = new FakeLog();
    const s = store(log);
    expect(await s.read('r1')).toBeUndefined(); // no topic yet: no runs, nothing created
    expect(log.topics.size).toBe(0);
    await s.write(state('r1', '2026-01-01T00:00:00.000Z'));
    await s.write(state('r2', '2026-01-02T00:00:00.000Z'));
    await s.write({ ...state('r1', '2026-01-03T00:00:00.000Z'), status: 'completed' });
    expect((await s.read('r1'))?.status).toBe('completed');
    expect((await s.list()).map((r) => r.name)).toEqual(['r1', 'r2']); // newest first
    // Deleting a run tombstones every key it has (one per holder that has not been tombstoned by the next).
    const keys = new Set((log.topics.get('runs') ?? []).map((r) => r.key).filter((k) => k?.split('@')[0] === 'r2'));
    expect(keys.size).toBeGreaterThan(0);
    for (const key of keys) await log.append('runs', key as string, null);
    expect(await s.read('r2')).toBeUndefined();
    expect((await s.list()).map((r) => r.name)).toEqual(['r1']);
  });

  it('sees what another process wrote since it last looked, reading only the new part', async () => {
    const log = new FakeLog();
    const mine = store(log);
    const theirs = store(new FakeLog(log));
    await mine.write(state('r1', '2026-01-01T00:00:00.000Z'));
    expect((await mine.read('r1'))?.updatedAt).toBe('2026-01-01T00:00:00.000Z');
    const readsBefore = log.reads;
    expect((await mine.read('r1'))?.updatedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(log.reads).toBe(readsBefore); // nothing new: the view is current without a read
    await theirs.write(state('r1', '2026-01-05T00:00:00.000Z'));
    expect((await mine.read('r1'))?.updatedAt).toBe('2026-01-05T00:00:00.000Z');
    expect(log.reads).toBe(readsBefore + 1);
  });

  it('begins afresh when the log start moved past what it had read', async () => {
    const log = new FakeLog();
    const s = store(log);
    await s.write(state('old'));
    expect(await s.read('old')).toBeDefined();
    log.topics.set('runs', [{ offset: 10, key: 'new', value: Buffer.from(JSON.stringify(state('new'))) }]);
    expect((await s.list()).map((r) => r.name)).toEqual(['new']);
  });

  it('reports a malformed record with the topic and offset, and a record under the wrong key', async () => {
    const log = new FakeLog();
    const s = store(log);
    await log.ensureTopic('runs');
    await log.append('runs', 'bad', Buffer.from('{"version": 1,'));
    const err = await s.read('bad').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as Error).message).toMatch(/^runs@0 \(run bad\):1:15: state file is not valid JSON/);
    await log.append('runs', 'other', Buffer.from(JSON.stringify(state('r9'))));
    await expect(s.read('other')).rejects.toThrow(/keyed other but holds run r9/);
  });

  it('turns a Kafka failure into RunStoreUnavailableError, and connects only while in use', async () => {
    const log = new FakeLog();
    log.append = async () => {
      throw new Error('cannot write to runs: Kafka at fake:9092 did not answer');
    };
    const s = store(log);
    const err = await s.write(state('r1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunStoreUnavailableError);
    expect((err as Error).message).toMatch(/cannot save run r1 in the Kafka run store \(fake:9092\): cannot write/);
    expect(log.closed).toBe(1);
  });
});

describe('KafkaRunStore: keepOpen', () => {
  it('keeps one connection across reads until released, and a second release does nothing', async () => {
    const log = new FakeLog();
    let connects = 0;
    const s = new KafkaRunStore(
      async () => {
        connects += 1;
        return log;
      },
      { topic: 'runs', lockTopic: 'locks', sessionTimeoutMs: 1000, where: 'fake:9092' },
    );
    await s.write(state('r1'));
    expect([connects, log.closed]).toEqual([1, 1]); // without keepOpen: a connection per call
    const release = s.keepOpen();
    for (let i = 0; i < 3; i++) expect((await s.list()).map((r) => r.name)).toEqual(['r1']);
    expect(await s.read('r1')).toMatchObject({ name: 'r1' });
    expect([connects, log.closed]).toEqual([2, 1]);
    await release();
    await release();
    expect(log.closed).toBe(2);
    await s.list();
    expect([connects, log.closed]).toEqual([3, 3]);
  });

  it('a keepOpen whose connect failed neither holds nor closes the next connection', async () => {
    const log = new FakeLog();
    let fail = true;
    const s = new KafkaRunStore(
      async () => {
        if (fail) throw new Error('no broker');
        return log;
      },
      { topic: 'runs', lockTopic: 'locks', sessionTimeoutMs: 1000, where: 'fake:9092' },
    );
    const release = s.keepOpen();
    await new Promise((r) => setImmediate(r));
    fail = false;
    const lock = await s.lock('r1');
    await release();
    expect(log.closed).toBe(0); // the lock's connection is not the failed one's to close
    await lock.release();
    expect(log.closed).toBe(1);
  });
});

describe('KafkaRunStore: every write acknowledged before the step proceeds', () => {
  const ok: StepType<Record<string, never>> = {
    type: 'test.ok',
    params: z.object({}),
    timeoutMs: 1000,
    intervalMs: 5,
    describe: () => 'ok',
    check: async () => ({ done: true, summary: 'fine' }),
  };

  it('the engine emits step.done only once the broker has the state that says so', async () => {
    const log = new FakeLog();
    let pending = 0;
    log.ack = async () => {
      pending += 1;
      await new Promise((r) => setTimeout(r, 15)); // a slow broker
      pending -= 1;
    };
    const s = store(log);
    const bound = boundPlaybook(
      ['a', 'b'].map((id) => ({ id, type: ok, params: {} })),
      { name: 'pb', checksum: 'abc' },
    );
    const seen: { step: string; inTopic: string | undefined; pending: number }[] = [];
    const lock = await s.lock('r1');
    const outcome = await executeRun({
      bound,
      state: state('r1'),
      store: s,
      emit: (e: RunEvent) => {
        if (e.type !== 'step.done') return;
        const latest = log.latest('runs', 'r1');
        seen.push({ step: e.step, inTopic: latest?.steps.find((st) => st.id === e.step)?.status, pending });
      },
      signal: new AbortController().signal,
      services: { cwd: process.cwd(), kafka: () => Promise.reject(new Error('none')), flags: () => Promise.reject(new Error('none')), schemas: () => Promise.reject(new Error('none')) },
      approve: new Set(),
      yes: false,
      continueCommand: () => '',
    });
    await lock.release();
    expect(outcome.status).toBe('completed');
    expect(seen).toEqual([
      { step: 'a', inTopic: 'done', pending: 0 },
      { step: 'b', inTopic: 'done', pending: 0 },
    ]);
  });
});

describe('KafkaRunStore: locks', () => {
  it('a second process is refused at once, told who holds the lock; after release it gets it', async () => {
    const log = new FakeLog();
    const a = store(log);
    const b = store(new FakeLog(log));
    const held = await a.lock('r1');
    const err = await b.lock('r1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunLockedError);
    expect((err as RunLockedError).exitCode).toBe(5);
    expect((err as Error).message).toMatch(new RegExp(`^run r1 is locked by pid ${process.pid} on host \\S+ since \\d{4}-`));
    expect((err as RunLockedError).hint).toMatch(/frees itself 6s after its holder dies.*--wait-lock/);
    expect(log.groups.get('migrate-lock-locks-r1')?.members).toHaveLength(1); // the refused member left
    await held.release();
    await (await b.lock('r1')).release();
  });

  it('with a wait, a second process takes the lock when the holder lets go', async () => {
    const log = new FakeLog();
    const a = store(log);
    const b = store(new FakeLog(log), { waitLockMs: 5000 });
    const held = await a.lock('r1');
    let acquired = false;
    const waiting = b.lock('r1').then((l) => ((acquired = true), l));
    await new Promise((r) => setTimeout(r, 30));
    expect(acquired).toBe(false);
    await held.release();
    await (await waiting).release();
    expect(acquired).toBe(true);
  });

  it('Ctrl-C ends a wait for the lock at once (exit 130)', async () => {
    const log = new FakeLog();
    const held = await store(log).lock('r1');
    const controller = new AbortController();
    const waiting = store(new FakeLog(log), { waitLockMs: 60_000, signal: controller.signal })
      .lock('r1')
      .catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 20));
    controller.abort(new Error('interrupted by SIGINT'));
    const err = await waiting;
    expect(err).toBeInstanceOf(LockWaitInterruptedError);
    expect((err as LockWaitInterruptedError).exitCode).toBe(130);
    expect(log.groups.get('migrate-lock-locks-r1')?.members).toHaveLength(1); // it left the group
    await held.release();
  });

  it('a wait that runs out names the holder', async () => {
    const log = new FakeLog();
    const held = await store(log).lock('r1');
    const err = await store(new FakeLog(log), { waitLockMs: 50 })
      .lock('r1')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunLockedError);
    expect((err as RunLockedError).hint).toMatch(/still held after waiting 50ms/);
    await held.release();
  });

  it('a holder whom the group no longer gives the lock refuses to write', async () => {
    const log = new FakeLog();
    const s = store(log);
    const held = await s.lock('r1');
    await s.write(state('r1'));
    const group = log.groups.get('migrate-lock-locks-r1') as FakeGroup;
    group.members[0]?.o.onJoin(false, 'member-1'); // a rebalance handed the partition to someone else
    const err = await s.write(state('r1')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunLockLostError);
    expect((err as RunLockLostError).exitCode).toBe(5);
    expect((err as Error).message).toMatch(/lost the lock of run r1: the lock group gave the lock to another member/);
    expect(group.members).toHaveLength(0); // and it left the group at once
    await held.release();
  });

  it('a holder waits for its lock to be confirmed before writing once the lease has run out', async () => {
    const log = new FakeLog();
    const s = store(log, { sessionTimeoutMs: 100 }); // lease 80 ms
    const held = await s.lock('r1');
    const member = (log.groups.get('migrate-lock-locks-r1') as FakeGroup).members[0] as { o: LockGroupOptions };
    await new Promise((r) => setTimeout(r, 120));
    setTimeout(() => member.o.onHeartbeat(), 50); // the coordinator answers again
    const started = Date.now();
    await s.write(state('r1'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    await held.release();
  });

  it('a holder whose lock stays unconfirmed stops writing', async () => {
    const log = new FakeLog();
    const s = store(log, { sessionTimeoutMs: 100 });
    const held = await s.lock('r1');
    await new Promise((r) => setTimeout(r, 120));
    await expect(s.write(state('r1'))).rejects.toThrow(/lost the lock of run r1: the group coordinator has not confirmed the lock for \d+ms/);
    await held.release();
  });

  it('given the lock back under a new member id, keeps it only if nobody saved the run meanwhile', async () => {
    const log = new FakeLog();
    const s = store(log);
    const held = await s.lock('r1');
    await s.write(state('r1'));
    const member = (log.groups.get('migrate-lock-locks-r1') as FakeGroup).members[0] as { o: LockGroupOptions };
    member.o.onJoin(true, 'member-after-restart'); // the client dropped out and joined again
    await s.write(state('r1')); // nobody wrote in between: still ours
    await store(new FakeLog(log)).write(state('r1')); // but someone else saved it while this one was out
    member.o.onJoin(true, 'member-after-second-restart');
    await expect(s.write(state('r1'))).rejects.toThrow(/lost the lock of run r1: another process saved the run while this one was out of the lock group/);
    await held.release();
  });

  it('a holder whose write lands after another process claimed the run stops; readers ignore the write and report it fenced', async () => {
    const log = new FakeLog();
    const s = store(log);
    const held = await s.lock('r1');
    await s.write(state('r1', '2026-01-01T00:00:00.000Z'));
    await store(new FakeLog(log)).write({ ...state('r1', '2026-01-02T00:00:00.000Z'), status: 'paused' }); // a claim of its own
    await expect(s.write({ ...state('r1', '2026-01-03T00:00:00.000Z'), status: 'completed' })).rejects.toThrow(
      /^lost the lock of run r1: another process claimed the run \(fencing token \d+\); this write, at offset \d+, is fenced/,
    );
    const reader = store(new FakeLog(log));
    expect(await reader.read('r1')).toMatchObject({ status: 'paused', updatedAt: '2026-01-02T00:00:00.000Z' });
    expect(await reader.fencedWrites('r1')).toEqual([expect.objectContaining({ run: 'r1', seq: 2, why: 'written after a newer holder claimed the run' })]);
    await held.release();
  });

  it('given the lock back while the cluster fails over, asks again until it can read the run state (not "lost the lock")', async () => {
    const log = new FakeLog();
    const s = store(log);
    const held = await s.lock('r1');
    await s.write(state('r1'));
    // The state topic's leader just died: reading its offsets fails twice, then the new leader answers.
    let failures = 2;
    const offsets = log.offsets.bind(log);
    log.offsets = async (topic) => {
      if (failures > 0) {
        failures -= 1;
        throw new TransientError(`cannot read offsets of ${topic}: Kafka at fake:9092 did not answer (Connection error: connect ECONNREFUSED)`);
      }
      return offsets(topic);
    };
    const member = (log.groups.get('migrate-lock-locks-r1') as FakeGroup).members[0] as { o: LockGroupOptions };
    member.o.onJoin(true, 'member-after-failover'); // the coordinator died with it: the client joined again
    await s.write(state('r1')); // nobody wrote in between: still ours, once the topic can be read
    expect(failures).toBe(0);
    await held.release();
  });

  it('a holder whose write fails gets RunStoreUnavailableError, and leaves no unhandled rejection behind', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const log = new FakeLog();
      const s = store(log);
      const held = await s.lock('r1');
      log.append = async () => {
        throw new TransientError('cannot write to runs: Kafka at fake:9092 did not answer (Connection error: connect ECONNREFUSED)');
      };
      const err = await s.write(state('r1')).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RunStoreUnavailableError);
      await new Promise((r) => setTimeout(r, 20)); // an unhandled rejection is reported by now
      expect(unhandled).toEqual([]); // one would end the CLI with a stack trace instead of the error above
      await held.release();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('writes of runs it does not lock are not fenced, and release closes the connection', async () => {
    const log = new FakeLog();
    const s = store(log);
    const held = await s.lock('r1');
    await s.write(state('r2'));
    expect(log.closed).toBe(0); // kept open while the lock is held
    await held.release();
    expect(log.closed).toBe(1);
  });
});

describe('lock assignment (run by the group leader)', () => {
  const info = (startedAt: string, heldAs?: string) => ({ pid: 1, host: 'h', startedAt, ...(heldAs ? { heldAs } : {}) });

  it('keeps the lock with its holder whoever joins, and otherwise gives it to the longest waiter', () => {
    const holder = { memberId: 'm-b', meta: info('2026-01-01T00:00:02Z', 'm-b') };
    const early = { memberId: 'm-a', meta: info('2026-01-01T00:00:01Z') };
    const late = { memberId: 'm-c', meta: info('2026-01-01T00:00:03Z') };
    expect(chooseLockHolder([early, holder, late])).toBe('m-b');
    expect(chooseLockHolder([late, early])).toBe('m-a');
    expect(chooseLockHolder([{ memberId: 'm-2', meta: info('t') }, { memberId: 'm-1', meta: info('t') }])).toBe('m-1');
    expect(chooseLockHolder([])).toBeUndefined();
  });

  it('ignores a stale claim: a member evicted and rejoining under a new id', () => {
    const zombie = { memberId: 'm-new', meta: info('2026-01-01T00:00:01Z', 'm-old') };
    const current = { memberId: 'm-b', meta: info('2026-01-01T00:00:05Z', 'm-b') };
    expect(chooseLockHolder([zombie, current])).toBe('m-b');
    expect(chooseLockHolder([zombie, { memberId: 'm-c', meta: info('2026-01-01T00:00:09Z') }])).toBe('m-new');
    expect(chooseLockHolder([{ memberId: 'm-x', meta: undefined }, { memberId: 'm-y', meta: info('2026-01-01T00:00:00Z') }])).toBe('m-y');
  });
});

describe('choosing the store: state.store, MIGRATE_STATE_STORE', () => {
  async function configIn(yaml: string, env: Record<string, string> = {}) {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'migrate-state-config-'));
    await writeFile(path.join(cwd, 'migrate.config.yaml'), yaml);
    return loadConfig({ cwd, env });
  }

  it('is the file store unless configured otherwise', async () => {
    const config = await configIn('');
    expect(config.state).toEqual({ store: 'file', topic: '__migrate_runs', lockTopic: '__migrate_locks', sessionTimeoutMs: 10_000 });
    expect(openRunStore(config)).toBeInstanceOf(FileRunStore);
  });

  it('is the Kafka store by config file or environment, with its topics and session timeout', async () => {
    const fromFile = await configIn('kafka: { brokers: [127.0.0.1:9092] }\nstate: { store: kafka, topic: team.runs, lockTopic: team.locks, sessionTimeout: 6s }\n');
    expect(fromFile.state).toEqual({ store: 'kafka', topic: 'team.runs', lockTopic: 'team.locks', sessionTimeoutMs: 6000 });
    const store = openRunStore(fromFile, { waitLock: '2m' });
    expect(store).toBeInstanceOf(KafkaRunStore);
    expect((store as KafkaRunStore).options).toMatchObject({ topic: 'team.runs', lockTopic: 'team.locks', sessionTimeoutMs: 6000, waitLockMs: 120_000 });
    expect((store as KafkaRunStore).lockGroup('r1')).toBe('migrate-lock-team.locks-r1');
    const fromEnv = await configIn('state: { store: file }\n', { MIGRATE_STATE_STORE: 'kafka', KAFKA_BROKERS: '127.0.0.1:9092' });
    expect(fromEnv.state.store).toBe('kafka');
    expect((openRunStore(fromEnv) as KafkaRunStore).lockGroup('r1')).toBe('migrate-lock-r1');
  });

  it('says what is wrong: no brokers, an unknown store, a bad timeout or topic, a bad --wait-lock', async () => {
    expect(() => openRunStore(loadConfigSync({ store: 'kafka' }))).toThrow(KafkaNotConfiguredError);
    await expect(configIn('', { MIGRATE_STATE_STORE: 'redis' })).rejects.toThrow(/MIGRATE_STATE_STORE: "redis" is not a known run store \(known: file, kafka\)/);
    await expect(configIn('state: { store: kafka, sessionTimeout: 500ms }\n')).rejects.toThrow(UsageError);
    await expect(configIn('state: { topic: "no spaces" }\n')).rejects.toThrow(/migrate.config.yaml:1:17: .*Kafka topic name/);
    expect(() => openRunStore(loadConfigSync({ store: 'file' }), { waitLock: 'soon' })).toThrow(/--wait-lock: "soon" is not a duration/);
  });
});

/** A config as loadConfig returns it, for checks that need no file. */
function loadConfigSync(state: { store: 'file' | 'kafka' }): Parameters<typeof openRunStore>[0] {
  return {
    kafka: undefined,
    stateDir: os.tmpdir(),
    state: { ...state, topic: '__migrate_runs', lockTopic: '__migrate_locks', sessionTimeoutMs: 10_000 },
    flags: { provider: 'file', file: 'flags.json' },
    schemas: { source: 'dir', dir: 'schemas' },
    plugins: [],
    file: undefined,
  };
}
