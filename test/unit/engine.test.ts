import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunEvent } from '../../src/engine/events.js';
import { executeRun, type ExecuteOptions } from '../../src/engine/execute.js';
import { TransientError } from '../../src/errors.js';
import type { BoundPlaybook } from '../../src/playbook/bind.js';
import type { RunState } from '../../src/state/run-state.js';
import { MemoryRunStore } from '../../src/state/memory-store.js';
import type { Check, StepType } from '../../src/steps/contract.js';
import { confirmStep } from '../../src/steps/confirm.js';
import { boundPlaybook, type TestStep } from '../support/bound-playbook.js';

/** A fake world: a set of things that exist, and a log of what was done to it. */
class World {
  readonly has = new Set<string>();
  readonly applied: string[] = [];
}

function ensureStep(world: World, opts: { failTimes?: number; transient?: boolean } = {}): StepType<{ thing: string }> {
  let failures = opts.failTimes ?? 0;
  return {
    type: 'test.ensure',
    params: z.object({ thing: z.string() }),
    timeoutMs: 1000,
    intervalMs: 5,
    describe: (p) => p.thing,
    async check(p): Promise<Check> {
      if (failures > 0) {
        failures -= 1;
        throw opts.transient ? new TransientError('broker hiccup') : new Error('permission denied');
      }
      return world.has.has(p.thing) ? { done: true, summary: `${p.thing} exists` } : { done: false, summary: `${p.thing} missing` };
    },
    async apply(p) {
      world.applied.push(p.thing);
      world.has.add(p.thing);
    },
  };
}

const neverStep: StepType<Record<string, never>> = {
  type: 'test.never',
  params: z.object({}),
  timeoutMs: 60,
  intervalMs: 10,
  describe: () => 'never',
  check: async () => ({ done: false, summary: 'lag 5 on partition 1', progress: { message: 'lag 5', metrics: { lag: 5 } } }),
};

/** Every step bound before the run: params `{}` unless given. */
const playbook = (steps: readonly TestStep[]): BoundPlaybook => boundPlaybook(steps.map((s) => ({ params: {}, ...s })));

function newState(bound: BoundPlaybook): RunState {
  const now = new Date().toISOString();
  return {
    version: 1,
    name: 'r1',
    playbook: { name: 'test', ref: 'test', file: 'test.yaml', checksum: 'x' },
    params: {},
    paramsChecksum: 'y',
    status: 'running',
    createdAt: now,
    updatedAt: now,
    steps: bound.steps.map((s) => ({ id: s.spec.id, uses: s.spec.uses, status: 'pending', attempts: 0 })),
    history: [],
  };
}

function options(bound: BoundPlaybook, state: RunState, extra: Partial<ExecuteOptions> = {}) {
  const events: RunEvent[] = [];
  const store = new MemoryRunStore();
  const o: ExecuteOptions = {
    bound,
    state,
    store,
    emit: (e) => events.push(e),
    signal: new AbortController().signal,
    services: {
      cwd: process.cwd(),
      kafka: () => Promise.reject(new Error('no kafka in unit tests')),
      flags: () => Promise.reject(new Error('no flags in unit tests')),
      schemas: () => Promise.reject(new Error('no schemas in unit tests')),
    },
    approve: new Set(),
    yes: false,
    continueCommand: (gate) => `migrate run test --approve ${gate}`,
    retryBaseMs: 1,
    ...extra,
  };
  return { o, events, store };
}

describe('the step machine', () => {
  it("expands the params of a step that reads earlier outputs with the playbook's params and env, secrets too (the state keeps neither)", async () => {
    const seen: unknown[] = [];
    const echo: StepType<Record<string, string>> = {
      type: 'test.echo',
      params: z.record(z.string(), z.string()),
      timeoutMs: 1000,
      intervalMs: 5,
      describe: () => 'echo',
      check: async (p) => {
        seen.push(p);
        return { done: true, summary: 'ok', outputs: { x: 'from-a' } };
      },
    };
    const bound = boundPlaybook(
      [
        { id: 'a', type: echo, params: {} },
        { id: 'b', type: echo, with: { out: '${{ steps.a.outputs.x }}', token: '${{ params.token }}', home: '${{ env.HOME }}' } },
      ],
      { params: { token: 's3cret' }, secret: ['token'], env: { HOME: '/home/op' } },
    );
    const state = newState(bound);
    state.params = { token: '***' };
    const { o } = options(bound, state);
    expect(await executeRun(o)).toEqual({ status: 'completed' });
    expect(seen[1]).toEqual({ out: 'from-a', token: 's3cret', home: '/home/op' });
  });

  it('waits instead of applying when the params of a step say it does not act (an exec step without apply)', async () => {
    const world = new World();
    let looks = 0;
    const step: StepType<{ acts: boolean }> = {
      type: 'test.maybe',
      params: z.object({ acts: z.boolean() }),
      timeoutMs: 1000,
      intervalMs: 5,
      describe: () => 'maybe',
      provides: (p) => ({ apply: p.acts, undo: false }),
      check: async () => (++looks >= 3 ? { done: true, summary: 'there' } : { done: false, summary: 'not yet' }),
      apply: async () => void world.applied.push('applied'),
    };
    const bound = playbook([{ id: 'wait', type: step, params: { acts: false } }]);
    const { o, events } = options(bound, newState(bound));
    expect(await executeRun(o)).toEqual({ status: 'completed' });
    expect(world.applied).toEqual([]);
    expect(looks).toBe(3);
    expect(events.some((e) => e.type === 'step.applied')).toBe(false);
  });

  it('saves the state while a wait keeps progress samples (the dashboard charts them); a sample that cannot be saved does not fail the wait', async () => {
    let checks = 0;
    const wait: StepType<Record<string, never>> = {
      type: 'test.wait',
      params: z.object({}),
      timeoutMs: 600_000,
      intervalMs: 1,
      describe: () => 'wait',
      check: async () => (++checks >= 4 ? { done: true, summary: 'drained' } : { done: false, summary: 'lagging', progress: { message: 'lagging', metrics: { lag: 10 - checks } } }),
    };
    const bound = playbook([{ id: 'w', type: wait }]);
    const midWait = (w: RunState) => w.steps[0]?.status === 'running' && w.history.some((h) => h.type === 'step.progress');
    // The clock moves 6 s a look: every progress report is kept as a sample.
    let t = Date.parse('2026-11-01T00:00:00.000Z');
    const first = options(bound, newState(bound), { now: () => (t += 6000) });
    expect(await executeRun(first.o)).toEqual({ status: 'completed' });
    expect(first.store.writes.filter(midWait).length).toBeGreaterThanOrEqual(2);

    checks = 0;
    const second = options(bound, newState(bound), { now: () => (t += 6000) });
    const write = second.store.write.bind(second.store);
    let refused = 0;
    second.o.store = {
      ...second.store,
      write: async (s: RunState) => {
        if (midWait(s)) {
          refused += 1;
          throw new Error('store away');
        }
        return write(s);
      },
    } as typeof second.store;
    expect(await executeRun(second.o)).toEqual({ status: 'completed' });
    expect(refused).toBeGreaterThanOrEqual(1);
    // The samples were not lost: the step's end carried them.
    expect(second.store.writes.at(-1)?.history.filter((h) => h.type === 'step.progress').length).toBeGreaterThanOrEqual(2);
  });

  it('applies only what check finds missing, and records intent before acting', async () => {
    const world = new World();
    world.has.add('a');
    const step = ensureStep(world);
    const bound = playbook([
      { id: 'a', type: step, params: { thing: 'a' } },
      { id: 'b', type: step, params: { thing: 'b' } },
    ]);
    const state = newState(bound);
    const { o, store, events } = options(bound, state);
    expect(await executeRun(o)).toEqual({ status: 'completed' });
    expect(world.applied).toEqual(['b']);
    expect(state.steps.map((s) => s.status)).toEqual(['done', 'done']);
    // a write with b "running" came before the apply, so a crash there resumes by re-checking
    expect(store.writes.some((w) => w.steps[1]?.status === 'running' && w.status === 'running')).toBe(true);
    expect(events.filter((e) => e.type === 'step.done').map((e) => (e as { alreadyDone?: boolean }).alreadyDone)).toEqual([true, undefined]);
  });

  it('saves what check saw before apply first; a run that died after acting keeps it, and the resumed step records it', async () => {
    const world = new World();
    let dies = true;
    const step: StepType<{ thing: string }> = {
      ...ensureStep(world),
      async check(p): Promise<Check> {
        return world.has.has(p.thing) ? { done: true, summary: 'there', outputs: { thing: p.thing } } : { done: false, summary: 'missing', before: { previous: 'absent' } };
      },
      async apply(p) {
        world.has.add(p.thing);
        // The process "dies" after acting, before the step is done: its outputs are never returned.
        if (dies) throw new Error('killed');
        return { changed: true };
      },
    };
    const bound = playbook([{ id: 'a', type: step, params: { thing: 'a' } }]);
    const state = newState(bound);
    const first = options(bound, state);
    const saved: unknown[] = [];
    const write = first.store.write.bind(first.store);
    first.o.store = { ...first.store, write: async (s: RunState) => (saved.push(structuredClone(s.steps[0])), write(s)) } as typeof first.store;
    expect((await executeRun(first.o)).status).toBe('failed');
    // Saved before apply ran, and still there after the failure.
    expect(saved.some((st) => (st as { before?: unknown }).before !== undefined && (st as { status: string }).status === 'running')).toBe(true);
    expect(state.steps[0]).toMatchObject({ status: 'failed', before: { previous: 'absent' } });

    dies = false;
    state.status = 'running';
    const second = options(bound, state);
    expect((await executeRun(second.o)).status).toBe('completed');
    expect(state.steps[0]?.outputs).toEqual({ previous: 'absent', thing: 'a' });
    expect(state.steps[0]?.before).toBeUndefined();
    const done = second.events.find((e) => e.type === 'step.done');
    expect(done && 'alreadyDone' in done).toBe(false);
  });

  it('pauses at a gate without approval, and goes on with --approve without redoing done steps', async () => {
    const world = new World();
    const step = ensureStep(world);
    const bound = playbook([
      { id: 'a', type: step, params: { thing: 'a' } },
      { id: 'gate', type: confirmStep, params: { message: 'go?' } },
      { id: 'b', type: step, params: { thing: 'b' } },
    ]);
    const state = newState(bound);
    const first = await executeRun(options(bound, state).o);
    expect(first).toEqual({ status: 'paused', step: 'gate', continueWith: 'migrate run test --approve gate' });
    expect(state.status).toBe('paused');
    expect(state.steps.map((s) => s.status)).toEqual(['done', 'waiting', 'pending']);
    expect(world.applied).toEqual(['a']);

    const second = await executeRun(options(bound, state, { approve: new Set(['gate']) }).o);
    expect(second.status).toBe('completed');
    expect(world.applied).toEqual(['a', 'b']);
    expect(state.steps[1]?.approval?.via).toBe('--approve');
  });

  it('asks a person at a gate when it can, and pauses when the answer is no', async () => {
    const bound = playbook([{ id: 'gate', type: confirmStep, params: { message: 'go?' } }]);
    const asked: string[] = [];
    const no = await executeRun(options(bound, newState(bound), { askGate: async (q) => (asked.push(q.message), false) }).o);
    expect(no.status).toBe('paused');
    const yes = await executeRun(options(bound, newState(bound), { askGate: async () => true }).o);
    expect(yes.status).toBe('completed');
    expect(asked).toEqual(['go?']);
  });

  it('fails a wait that never passes when its timeout runs out, saying what it last saw', async () => {
    const bound = playbook([{ id: 'wait', type: neverStep, timeout: 50 }]);
    const state = newState(bound);
    const { o, events } = options(bound, state);
    const out = await executeRun(o);
    expect(out.status).toBe('failed');
    expect(state.steps[0]?.error?.message).toMatch(/timed out after 50ms: lag 5 on partition 1/);
    expect(events.some((e) => e.type === 'step.progress')).toBe(true);
  });

  it('retries transient errors with backoff and fails at once on others', async () => {
    const world = new World();
    const flaky = ensureStep(world, { failTimes: 2, transient: true });
    const bound = playbook([{ id: 'a', type: flaky, params: { thing: 'a' } }]);
    const { o, events } = options(bound, newState(bound));
    expect((await executeRun(o)).status).toBe('completed');
    expect(events.filter((e) => e.type === 'step.retry')).toHaveLength(2);

    const broken = ensureStep(world, { failTimes: 1 });
    const bound2 = playbook([{ id: 'a', type: broken, params: { thing: 'z' } }]);
    const state2 = newState(bound2);
    const out = await executeRun(options(bound2, state2).o);
    expect(out.status).toBe('failed');
    expect(state2.steps[0]).toMatchObject({ status: 'failed', attempts: 1, error: { message: 'permission denied' } });
  });

  it('stops cleanly when interrupted: the step goes back to pending and the run is paused', async () => {
    const controller = new AbortController();
    const bound = playbook([{ id: 'wait', type: { ...neverStep, timeoutMs: 10_000 } }]);
    const state = newState(bound);
    setTimeout(() => controller.abort(new Error('SIGINT')), 30);
    const out = await executeRun(options(bound, state, { signal: controller.signal }).o);
    expect(out).toEqual({ status: 'interrupted', step: 'wait' });
    expect(state).toMatchObject({ status: 'paused', pausedAt: 'interrupted' });
    expect(state.steps[0]?.status).toBe('pending');
  });

  it('waits without applying while check says wait, applies once, and runs deferred cleanups', async () => {
    let members = 2;
    const log: string[] = [];
    const retire: StepType<Record<string, never>> = {
      type: 'test.retire',
      params: z.object({}),
      timeoutMs: 1000,
      intervalMs: 5,
      describe: () => 'retire',
      async check(_p, ctx) {
        if (!ctx.memory.deferred) {
          ctx.memory.deferred = true;
          ctx.defer(async () => void log.push('cleanup'));
        }
        if (members === -1) return { done: true, summary: 'deleted' };
        if (members > 0) {
          members -= 1;
          return { done: false, wait: true, summary: `${members + 1} members` };
        }
        return { done: false, summary: 'empty' };
      },
      async apply() {
        log.push(`apply with ${members} members`);
        members = -1;
      },
    };
    const bound = playbook([{ id: 'retire', type: retire }]);
    expect((await executeRun(options(bound, newState(bound)).o)).status).toBe('completed');
    expect(log).toEqual(['apply with 0 members', 'cleanup']);
  });
});

describe('the audit trail', () => {
  it('records approvals, applies and sampled progress in the run history', async () => {
    const world = new World();
    const step = ensureStep(world);
    const bound = playbook([
      { id: 'gate', type: confirmStep, params: { message: 'go?' } },
      { id: 'a', type: step, params: { thing: 'a' } },
      { id: 'wait', type: neverStep, timeout: 60 },
    ]);
    const state = newState(bound);
    await executeRun(options(bound, state, { yes: true }).o);
    const types = state.history.map((h) => `${h.type}${h.step ? `:${h.step}` : ''}`);
    expect(types).toEqual([
      'gate.approved:gate',
      'step.done:gate',
      'step.started:a',
      'step.applied:a',
      'step.done:a',
      'step.started:wait',
      'step.progress:wait',
      // the last sample the 5 s sampling left out, kept as the step ends: a chart ends where the wait did
      'step.progress:wait',
      'step.failed:wait',
      'run.finished:wait',
    ]);
    expect(state.history[0]?.detail).toMatchObject({ via: '--yes' });
  });
});
