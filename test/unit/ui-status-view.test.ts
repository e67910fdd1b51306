import { describe, expect, it } from 'vitest';
import type { RunState, StepState } from '../../src/state/run-state.js';
import { loadColors, paint } from '../../src/ui/paint.js';
import { currentStep, renderRunDetail, renderRunTable, runElapsed } from '../../src/ui/status-view.js';
import { stripAnsi } from '../../src/ui/text.js';
import { runStateFixture } from '../support/run-state.js';

await loadColors(); // paint(true) colors with chalk once it is loaded

const t0 = Date.parse('2026-11-25T15:00:00.000Z');
const at = (s: number) => new Date(t0 + s * 1000).toISOString();

function run(name: string, status: RunState['status'], steps: StepState[], extra: Partial<RunState> = {}): RunState {
  const playbook = { name: 'sync-to-async', ref: 'sync-to-async', file: 'playbooks/sync-to-async.yaml', checksum: 'x' };
  return runStateFixture({ name, status, steps, playbook, paramsChecksum: 'y', createdAt: at(0), updatedAt: at(125), ...extra });
}

const done = (id: string, from: number, to: number, summary: string): StepState => ({ id, uses: 'x', status: 'done', attempts: 1, startedAt: at(from), finishedAt: at(to), summary });

describe('status view', () => {
  const paused = run('sync-to-async-orders', 'paused', [
    done('create-topic', 0, 0.221, 'topic datarep.orders exists with 3 partitions'),
    { id: 'skip-me', uses: 'x', status: 'skipped', attempts: 0, summary: 'skipped: done by hand', skip: { by: 'alice@laptop', reason: 'done by hand', at: at(2) } } as StepState,
    done('events-flow', 3, 65, '42 new events (need 20), all valid'),
    { id: 'approve-switch', uses: 'confirm', status: 'waiting', attempts: 0, summary: 'waiting for approval' },
    { id: 'switch', uses: 'flag.set', status: 'pending', attempts: 0 },
  ], { pausedAt: 'approve-switch' });
  const completed = run('demo-orders', 'completed', [done('a', 0, 1, 'ok')], { playbook: { name: 'demo', ref: 'demo', file: 'demo.yaml', checksum: 'x' }, updatedAt: at(9) });
  const failed = run('async-to-sync-orders', 'failed', [
    done('switch', 0, 1, 'flag off'),
    {
      id: 'drained',
      uses: 'kafka.drain',
      status: 'failed',
      attempts: 3,
      startedAt: at(1),
      error: { message: 'timed out after 30m00s: lag 12', causes: ['broker unreachable', 'connect ECONNREFUSED 127.0.0.1:9092'] },
    },
  ], { history: [{ at: at(1801), type: 'step.failed', step: 'drained' }], updatedAt: at(1801) });

  it('lists runs in an aligned table: status, steps done of all, elapsed, current step, last update', () => {
    const now = t0 + 130_000;
    const text = renderRunTable([paused, completed, failed], paint(false), '.migrate', now);
    const rows = text.trimEnd().split('\n');
    expect(rows).toEqual([
      'RUN                   PLAYBOOK       STATUS               STEPS  ELAPSED  CURRENT           UPDATED',
      'sync-to-async-orders  sync-to-async  paused     3/5 (1 skipped)    2m10s  ⏸ approve-switch  5s ago',
      'demo-orders           demo           completed              1/1       9s  —                 2m01s ago',
      // (its last update lies after "now" here: an age is never negative)
      'async-to-sync-orders  sync-to-async  failed                 1/2   30m01s  ✗ drained         0ms ago',
    ]);
  });

  it('colors the status without breaking the alignment', () => {
    const plain = renderRunTable([paused, completed], paint(false), '.migrate', t0 + 130_000);
    const colored = renderRunTable([paused, completed], paint(true), '.migrate', t0 + 130_000);
    expect(colored).not.toBe(plain);
    expect(stripAnsi(colored)).toBe(plain);
  });

  it('says so when there are no runs', () => {
    expect(renderRunTable([], paint(false), '.migrate')).toBe('No runs in .migrate\n');
  });

  it('shows one run: per-step durations and attempts, approvals, skips, and the whole chain of causes', () => {
    const text = renderRunDetail(failed, paint(false), t0 + 1_900_000);
    expect(text.split('\n')).toEqual([
      'async-to-sync-orders  failed',
      'playbook sync-to-async · started 2026-11-25T15:00:00.000Z · elapsed 30m01s · 1/2 steps · updated 1m39s ago',
      'params: topic=orders',
      '',
      '    STEP     STATUS    TOOK  TRIES  SUMMARY',
      '  ✓ switch   done        1s      1  flag off',
      '  ✗ drained  failed  30m00s      3  timed out after 30m00s: lag 12',
      '        └ caused by: broker unreachable',
      '          └ caused by: connect ECONNREFUSED 127.0.0.1:9092',
      '',
    ]);
    const detail = renderRunDetail(
      { ...paused, steps: paused.steps.map((s) => (s.id === 'events-flow' ? { ...s, attempts: 2, approval: undefined } : s)) },
      paint(false),
      t0 + 130_000,
    );
    expect(detail).toContain('sync-to-async-orders  paused at approve-switch');
    expect(detail).toMatch(/↷ skip-me +skipped +skipped: done by hand\n +skipped by alice@laptop at .*: done by hand/);
    expect(detail).toMatch(/✓ events-flow +done +1m02s +2 +42 new events/);
    expect(detail).toMatch(/⏸ approve-switch +waiting +waiting for approval/);
  });

  it('keeps the table one line a step: a message of several lines goes on under its row', () => {
    const multi = {
      ...failed,
      steps: failed.steps.map((s) => (s.id === 'drained' ? { ...s, error: { message: 'exec: apply exited 1\nline one\n\nline two', causes: [] } } : s)),
    };
    const lines = renderRunDetail(multi, paint(false), t0 + 1_900_000).split('\n');
    const row = lines.findIndex((l) => l.includes('✗ drained'));
    expect(lines[row]).toMatch(/✗ drained +failed +30m00s +3 +exec: apply exited 1$/);
    expect(lines.slice(row + 1, row + 3)).toEqual(['        line one', '        line two']);
  });

  it('knows where a run is and how long it has been going', () => {
    expect(currentStep(paused)?.id).toBe('approve-switch');
    expect(currentStep(completed)).toBeUndefined();
    expect(runElapsed(paused, t0 + 200_000)).toBe(200_000); // still open: until now
    expect(runElapsed(completed, t0 + 200_000)).toBe(9_000); // over: until its last update
  });
});
