import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunEvent } from '../../src/engine/events.js';
import { renderStepList, wantsLiveView } from '../../src/ui/live.js';
import { paint } from '../../src/ui/paint.js';
import { gateBlock } from '../../src/ui/prompt.js';
import { LiveRegion } from '../../src/ui/region.js';
import { createRenderer } from '../../src/ui/render.js';
import { RunModel } from '../../src/ui/run-model.js';
import { stripAnsi, visibleWidth } from '../../src/ui/text.js';

const run = 'demo-orders';
const started: RunEvent = {
  type: 'run.started',
  run,
  playbook: 'demo',
  resumed: true,
  steps: 4,
  stepList: [
    { id: 'create-topic', title: 'Create topic datarep.orders', status: 'done', summary: 'topic datarep.orders exists with 3 partitions', timeoutMs: 60_000 },
    { id: 'go-live', title: 'go-live', status: 'done', summary: 'approved by alice@laptop (--approve)' },
    { id: 'drained', title: 'Consumers drained datarep.orders', status: 'running', timeoutMs: 1_800_000 },
    { id: 'retired', title: 'retired', status: 'pending', timeoutMs: 60_000 },
  ],
};
const c = paint(false);

function fold(events: [number, RunEvent][]): RunModel {
  const model = new RunModel();
  for (const [at, e] of events) model.apply(e, at);
  return model;
}

describe('the live step list', () => {
  it('lists every step from run.started, a resumed run showing what earlier runs did', () => {
    const lines = renderStepList(fold([[0, started]]), { now: 0, c });
    expect(lines).toEqual([
      '✓ create-topic  Create topic datarep.orders       topic datarep.orders exists with 3 partitions',
      '✓ go-live                                         approved by alice@laptop (--approve)',
      // left "running" by a process that died: it will be looked at again
      '○ drained       Consumers drained datarep.orders',
      '○ retired',
    ]);
  });

  it('draws a spinner and a drain bar under the step being waited for, then ✓ with its duration', () => {
    const progress = (lag: number, extra: Record<string, number> = {}): RunEvent => ({
      type: 'step.progress',
      run,
      step: 'drained',
      progress: { message: `lag ${lag}`, metrics: { lag, partitions: 3, lagging: lag ? 3 : 0, ...extra } },
      elapsedMs: 0,
    });
    const model = fold([
      [0, started],
      [1000, { type: 'step.started', run, step: 'drained', title: 'Consumers drained datarep.orders', attempt: 2 }],
      [1100, progress(1000)],
      [3100, progress(600, { ratePerSec: 200, etaMs: 3000 })],
    ]);
    const lines = renderStepList(model, { now: 3150, c });
    expect(lines[2]).toBe('⠙ drained       Consumers drained datarep.orders  lag 600');
    expect(lines[3]).toBe('                ██████████░░░░░░░░░░░░░░  40%  lag 600 of 1,000 · 200/s · ETA 3s');
    expect(lines[4]).toBe('○ retired');

    model.apply({ type: 'step.done', run, step: 'drained', summary: 'group drained datarep.orders', durationMs: 4200 }, 5200);
    expect(renderStepList(model, { now: 5200, c })[2]).toBe('✓ drained       Consumers drained datarep.orders  group drained datarep.orders (4s)');
  });

  it('shows a failure in red, retries as a note, a gate being asked, and skips', () => {
    const model = fold([
      [0, started],
      [0, { type: 'step.started', run, step: 'drained', title: 'Consumers drained datarep.orders', attempt: 1 }],
      [10, { type: 'step.retry', run, step: 'drained', error: 'broker unreachable', delayMs: 500, retry: 1 }],
    ]);
    expect(renderStepList(model, { now: 20, c })[2]).toMatch(/^⠋ drained .* checking… \(20ms\) {2}! broker unreachable; retry 1 in 500ms$/);
    model.apply({ type: 'step.failed', run, step: 'drained', error: 'timed out', causes: [] }, 30);
    model.apply({ type: 'step.skipped', run, step: 'retired', by: 'alice', reason: 'no consumers here' }, 30);
    const lines = renderStepList(model, { now: 40, c });
    expect(lines[2]).toBe('✗ drained       Consumers drained datarep.orders  timed out');
    expect(lines[3]).toBe('↷ retired                                         skipped: no consumers here');
    model.asking('retired', true);
    expect(renderStepList(model, { now: 40, c })[3]).toBe('⏸ retired                                         waiting for your answer');
  });

  it('folds finished steps into one line when the list is taller than the terminal', () => {
    const many: RunEvent = {
      ...started,
      stepList: Array.from({ length: 30 }, (_, i) => ({ id: `s${i}`, title: `s${i}`, status: i < 20 ? 'done' : 'pending', summary: i < 20 ? 'ok' : undefined })),
    } as RunEvent;
    const lines = renderStepList(fold([[0, many]]), { now: 0, c, height: 8 });
    expect(lines).toEqual(['✓ 20 earlier steps done', '○ s20', '○ s21', '○ s22', '○ s23', '○ s24', '○ s25', '○ 4 more steps']);
  });

  it('lines titles up by the columns they take: CJK and emoji are two wide, long ones cut on a whole character', () => {
    const wide: RunEvent = {
      ...started,
      stepList: [
        { id: 'topic', title: 'トピックを作成', status: 'done', summary: 'created' },
        { id: 'party', title: 'Go live 🎉👨‍👩‍👧‍👦', status: 'done', summary: 'switched' },
        { id: 'long', title: '消費者グループが空になるまで待ってから古い同期呼び出しを削除する', status: 'pending' },
      ],
    } as RunEvent;
    const lines = renderStepList(fold([[0, wide]]), { now: 0, c });
    expect(lines).toEqual([
      `✓ topic  トピックを作成${' '.repeat(28)}created`, // a 14-column title padded to 40, then 2
      `✓ party  Go live 🎉👨‍👩‍👧‍👦${' '.repeat(30)}switched`, // 12 columns
      '○ long   消費者グループが空になるまで待ってから…',
    ]);
    // every detail starts in the same column
    expect(lines.slice(0, 2).map((l) => visibleWidth(l.slice(0, l.lastIndexOf(' ') + 1)))).toEqual([51, 51]);
  });

  it('is used at a terminal with colors, TERM not dumb', () => {
    expect(wantsLiveView({ isTTY: true }, true, {})).toBe(true);
    expect(wantsLiveView({ isTTY: true }, false, {})).toBe(false);
    expect(wantsLiveView({ isTTY: false }, true, {})).toBe(false);
    expect(wantsLiveView({ isTTY: true }, true, { TERM: 'dumb' })).toBe(false);
  });
});

/** A terminal-like stream that records every write. */
function fakeTerminal(columns = 80, rows = 24) {
  const writes: string[] = [];
  const out = Object.assign(
    new Writable({
      write(chunk: Buffer, _enc, done) {
        writes.push(chunk.toString());
        done();
      },
    }),
    { isTTY: true, columns, rows },
  );
  return { out, writes, text: () => writes.join('') };
}

describe('LiveRegion', () => {
  it('redraws in place: back up over the lines drawn, rewrite each, erase what is left below', () => {
    const t = fakeTerminal(30);
    const region = new LiveRegion(t.out);
    region.draw(['one', 'two']);
    region.draw(['three is a line longer than the terminal is wide']);
    region.draw(['final', 'frame'], true);
    expect(t.writes).toEqual([
      '\x1b[?25l',
      '\r\x1b[2Kone\n\x1b[2Ktwo\n\x1b[J',
      '\r\x1b[2A\x1b[2Kthree is a line longer than …\n\x1b[J', // 29 columns: one less than the terminal's
      '\r\x1b[1A\x1b[J\x1b[2Kfinal\n\x1b[2Kframe\n\x1b[J',
      '\x1b[?25h',
    ]);
  });
});

describe('the live renderer', () => {
  afterEach(() => vi.useRealTimers());

  it('redraws at most ten times a second and leaves the final list, then what needs reading, below it', () => {
    vi.useFakeTimers({ now: 0 });
    const t = fakeTerminal();
    const r = createRenderer({ json: false, out: t.out, color: false, live: true });
    r.event(started);
    r.event({ type: 'step.started', run, step: 'drained', title: 'Consumers drained datarep.orders', attempt: 1 });
    for (let i = 0; i < 50; i++) r.event({ type: 'step.progress', run, step: 'drained', progress: { message: `lag ${100 - i}`, metrics: { lag: 100 - i } }, elapsedMs: i });
    const frames = () => t.writes.filter((w) => w.includes('\x1b[2K')).length;
    expect(frames()).toBe(1); // the first frame, at run.started
    vi.advanceTimersByTime(1000);
    expect(frames()).toBe(11);
    r.event({ type: 'step.failed', run, step: 'drained', error: 'timed out after 30m00s: lag 51', causes: ['broker unreachable'] });
    r.event({ type: 'run.finished', run, status: 'failed', step: 'drained', durationMs: 1000 });
    vi.advanceTimersByTime(1000);
    expect(frames()).toBe(12); // the final one, and none after it

    const screen = stripAnsi(t.text()).split('\n');
    expect(screen[0]).toBe('Resuming run demo-orders (playbook demo, 4 steps)');
    expect(screen.slice(-5)).toEqual([
      expect.stringMatching(/○ retired$/),
      '✗ drained  timed out after 30m00s: lag 51',
      '    caused by: broker unreachable',
      'Run demo-orders failed at step drained after 1s; fix the cause and run the same command again to resume',
      '',
    ]);
  });
});

describe('the question at a gate', () => {
  it('shows the step, its description and the evidence the run gathered before it', () => {
    const model = fold([
      [0, started],
      [0, { type: 'step.started', run, step: 'drained', title: 'Consumers drained datarep.orders', attempt: 1 }],
      [0, { type: 'step.applied', run, step: 'drained', outputs: { partitions: 3, detail: { a: 1 } } }],
      [2000, { type: 'step.done', run, step: 'drained', summary: 'lag 0 on 3 partitions', durationMs: 2000 }],
    ]);
    const lines = gateBlock(
      { run, step: 'retired', title: 'Retire the consumers', message: 'Retire them?', description: 'The consumer group is deleted; it cannot be undone.' },
      model.evidenceBefore('retired'),
      60,
      c,
    );
    expect(lines).toEqual([
      '⏸ retired  Retire the consumers',
      '  The consumer group is deleted; it cannot be undone.',
      '  Evidence so far in this run:',
      '    ✓ create-topic  topic datarep.orders exists with 3 part…',
      '    ✓ go-live       approved by alice@laptop (--approve)',
      '    ✓ drained       lag 0 on 3 partitions (2s)',
      '                    partitions=3',
    ]);
  });
});
