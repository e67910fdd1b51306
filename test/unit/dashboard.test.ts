import { describe, expect, it } from 'vitest';
import { allowedHost } from '../../src/dashboard/server.js';
import { runDetail, runRow, waitSamples } from '../../src/dashboard/views.js';
import { recordDecision } from '../../src/engine/decisions.js';
import { RunLockedError, RunNotFoundError, UsageError } from '../../src/errors.js';
import { MemoryRunStore } from '../../src/state/memory-store.js';
import type { RunState } from '../../src/state/run-state.js';
import { runStateFixture } from '../support/run-state.js';

/** A run paused at gate `go` after a drain that reported lag twice and then failed once transiently. */
function pausedRun(): RunState {
  return runStateFixture({
    name: 'r1',
    status: 'paused',
    pausedAt: 'go',
    steps: [
      { id: 'drain', uses: 'kafka.drain', status: 'done', attempts: 1, startedAt: '2026-11-01T10:00:00.000Z', finishedAt: '2026-11-01T10:00:30.000Z', summary: 'drained' },
      { id: 'go', uses: 'confirm', status: 'waiting', attempts: 0 },
      { id: 'last', uses: 'kafka.topic', status: 'pending', attempts: 0 },
    ],
    history: [
      { at: '2026-11-01T10:00:05.000Z', type: 'step.progress', step: 'drain', detail: { progress: { message: 'lag 90', metrics: { lag: 90 } } } },
      { at: '2026-11-01T10:00:06.000Z', type: 'step.retry', step: 'drain', detail: { error: 'broker away', retry: 1 } },
      { at: '2026-11-01T10:00:10.000Z', type: 'step.progress', step: 'drain', detail: { progress: { message: 'lag 40', metrics: { lag: 40, ratePerSec: 10 } } } },
    ],
  });
}

describe('dashboard views', () => {
  it('a row says progress and the current step; the detail has durations, retries, samples and what the page may do', () => {
    const s = pausedRun();
    expect(runRow(s)).toMatchObject({ name: 'r1', status: 'paused', pausedAt: 'go', progress: { finished: 1, total: 3 }, current: { id: 'go', status: 'waiting' } });
    const d = runDetail(s);
    expect(d.steps.map((st) => [st.id, st.approvable, st.skippable])).toEqual([
      ['drain', false, false],
      ['go', true, true],
      ['last', false, true],
    ]);
    expect(d.steps[0]).toMatchObject({ durationMs: 30_000, retries: [{ error: 'broker away' }] });
    expect(d.steps[0]?.samples).toEqual([
      { t: Date.parse('2026-11-01T10:00:05.000Z'), lag: 90, rate: null },
      { t: Date.parse('2026-11-01T10:00:10.000Z'), lag: 40, rate: 10 },
    ]);
    expect(d.failure).toBeUndefined();
  });

  it('a failed step gives the cause chain; a counted step (kafka.verify) gets its rate from the count', () => {
    const s = runStateFixture({ name: 'r2', status: 'failed', steps: [{ id: 'a', uses: 'kafka.topic', status: 'failed', attempts: 1, error: { message: 'step a failed', causes: ['timeout', 'ECONNREFUSED'] } }] });
    expect(runDetail(s).failure).toEqual({ step: 'a', chain: ['step a failed', 'timeout', 'ECONNREFUSED'] });
    const history = [0, 5, 10].map((sec, i) => ({ at: new Date(Date.UTC(2026, 10, 1, 10, 0, sec)).toISOString(), type: 'step.progress', step: 'v', detail: { progress: { message: '', metrics: { events: i * 50 } } } }));
    // The first sample has neither lag nor a rate yet: no point.
    expect(waitSamples(history, 'v').map((p) => p.rate)).toEqual([10, 10]);
  });
});

describe('decisions recorded from the dashboard', () => {
  const approval = { by: 'ann@host', via: 'dashboard' as const, at: '2026-11-01T11:00:00.000Z' };

  it('approves the gate the run waits at, as the engine would, with a history entry', async () => {
    const store = new MemoryRunStore();
    await store.write(pausedRun());
    const s = await recordDecision(store, 'r1', { kind: 'approve', step: 'go', approval });
    const stored = await store.read('r1');
    expect(stored?.steps[1]).toMatchObject({ status: 'done', attempts: 1, approval, summary: 'approved by ann@host (dashboard)' });
    expect(stored?.pausedAt).toBeUndefined();
    expect(s.history.at(-1)).toEqual({ at: approval.at, type: 'gate.approved', step: 'go', detail: { by: 'ann@host', via: 'dashboard' } });
    // A second approval finds no gate waiting.
    await expect(recordDecision(store, 'r1', { kind: 'approve', step: 'go', approval })).rejects.toThrow(UsageError);
  });

  it('skips a step with who and why; refuses an empty reason, a done step, a missing run, and a run another process drives', async () => {
    const store = new MemoryRunStore();
    await store.write(pausedRun());
    const skip = { by: 'ann@host', reason: 'created by hand', at: approval.at };
    await recordDecision(store, 'r1', { kind: 'skip', step: 'last', skip });
    expect((await store.read('r1'))?.steps[2]).toMatchObject({ status: 'skipped', skip });
    await expect(recordDecision(store, 'r1', { kind: 'skip', step: 'go', skip: { ...skip, reason: ' ' } })).rejects.toThrow(/reason is empty/);
    await expect(recordDecision(store, 'r1', { kind: 'skip', step: 'drain', skip })).rejects.toThrow(/done already/);
    await expect(recordDecision(store, 'nope', { kind: 'skip', step: 'a', skip })).rejects.toThrow(RunNotFoundError);
    const held = await store.lock('r1');
    await expect(recordDecision(store, 'r1', { kind: 'approve', step: 'go', approval })).rejects.toThrow(RunLockedError);
    await held.release();
    expect((await store.read('r1'))?.steps[1]?.status).toBe('waiting');
  });
});

describe('allowedHost (DNS rebinding)', () => {
  it('takes loopback names and IP literals on the dashboard port, and the name it was bound to; nothing else', () => {
    expect(allowedHost('127.0.0.1:8080', 8080, '127.0.0.1')).toBe(true);
    expect(allowedHost('localhost:8080', 8080, '127.0.0.1')).toBe(true);
    expect(allowedHost('[::1]:8080', 8080, '::1')).toBe(true);
    expect(allowedHost('192.168.1.5:8080', 8080, '0.0.0.0')).toBe(true);
    expect(allowedHost('box.lan:8080', 8080, 'box.lan')).toBe(true);
    expect(allowedHost('attacker.example:8080', 8080, '127.0.0.1')).toBe(false);
    expect(allowedHost('127.0.0.1:9090', 8080, '127.0.0.1')).toBe(false);
    expect(allowedHost(undefined, 8080, '127.0.0.1')).toBe(false);
  });
});
