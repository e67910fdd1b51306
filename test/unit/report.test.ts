import { describe, expect, it } from 'vitest';
import type { RunState } from '../../src/state/run-state.js';
import type { StepType } from '../../src/steps/contract.js';
import { flagSetStep } from '../../src/steps/flag-set.js';
import { formatMetrics, renderRunReport } from '../../src/ui/report.js';
import { reportCharts } from '../../src/ui/report-charts.js';
import { htmlFormat, htmlPage } from '../../src/ui/report-html.js';
import { assertWellFormedXml } from '../support/xml.js';

const state: RunState = {
  version: 1,
  name: 'sync-to-async-orders',
  playbook: { name: 'sync-to-async', ref: 'sync-to-async', file: 'playbooks/sync-to-async.yaml', checksum: 'abcdef0123456789' },
  params: { topic: 'orders', token: '***' },
  paramsChecksum: 'x',
  status: 'completed',
  createdAt: '2026-11-25T10:00:00.000Z',
  updatedAt: '2026-11-25T10:05:00.000Z',
  steps: [
    { id: 'register', uses: 'schema.register', status: 'done', attempts: 2, startedAt: '2026-11-25T10:00:00.000Z', finishedAt: '2026-11-25T10:01:00.000Z', summary: 'schema Orders v1 is registered', outputs: { event: 'Orders', version: 1, location: 'schemas/Orders/1.json' } },
    { id: 'sync-call-removed', uses: 'code.absent', status: 'skipped', attempts: 0, summary: 'skipped: done by hand', skip: { by: 'bob@ci', reason: 'removed in | PR 12', at: '2026-11-25T10:01:30.000Z' } },
    { id: 'approve-switch', uses: 'confirm', status: 'done', attempts: 1, finishedAt: '2026-11-25T10:02:00.000Z', summary: 'approved by alice@laptop (--approve)', approval: { by: 'alice@laptop', via: '--approve', at: '2026-11-25T10:02:00.000Z' } },
    { id: 'switch', uses: 'flag.set', status: 'done', attempts: 1, startedAt: '2026-11-25T10:02:01.000Z', finishedAt: '2026-11-25T10:02:02.000Z', outputs: { key: 'orders-async', on: true, previous: { enabled: true, value: false }, changed: true } },
    { id: 'drained', uses: 'kafka.drain', status: 'done', attempts: 1, startedAt: '2026-11-25T10:03:00.000Z', finishedAt: '2026-11-25T10:05:00.000Z', summary: 'lag 0' },
  ],
  history: [
    { at: '2026-11-25T10:00:01.000Z', type: 'step.failed', step: 'register', detail: { error: 'not backward compatible', causes: ['field removed: <payload.id>'] } },
    { at: '2026-11-25T10:00:01.000Z', type: 'run.finished', detail: { status: 'failed', step: 'register', durationMs: 1000 } },
    { at: '2026-11-25T10:00:59.000Z', type: 'step.applied', step: 'register', detail: { outputs: { event: 'Orders', version: 1 } } },
    { at: '2026-11-25T10:01:00.000Z', type: 'step.done', step: 'register', detail: { summary: 'registered', durationMs: 900 } },
    { at: '2026-11-25T10:01:30.000Z', type: 'step.skipped', step: 'sync-call-removed', detail: { by: 'bob@ci', reason: 'removed in | PR 12' } },
    { at: '2026-11-25T10:02:00.000Z', type: 'gate.approved', step: 'approve-switch', detail: { by: 'alice@laptop', via: '--approve' } },
    { at: '2026-11-25T10:02:01.500Z', type: 'step.applied', step: 'switch', detail: { outputs: { key: 'orders-async', on: true, previous: { enabled: true, value: false }, changed: true } } },
    { at: '2026-11-25T10:03:01.000Z', type: 'step.progress', step: 'drained', detail: { progress: { message: 'lag 120: partition 0 lag 100', metrics: { lag: 120, partitions: 3, lagging: 2, ratePerSec: 40, etaMs: 3000 } }, elapsedMs: 1000 } },
    { at: '2026-11-25T10:03:06.000Z', type: 'step.progress', step: 'drained', detail: { progress: { message: 'lag 0 (1/3 samples)', metrics: { lag: 0, partitions: 3, lagging: 0 } }, elapsedMs: 6000 } },
    { at: '2026-11-25T10:05:00.000Z', type: 'run.finished', detail: { status: 'completed', durationMs: 240_000 } },
  ],
};

function section(md: string, title: string): string {
  const start = md.indexOf(`## ${title}\n`);
  expect(start, title).toBeGreaterThanOrEqual(0);
  const end = md.indexOf('\n## ', start + 1);
  return md.slice(start, end < 0 ? undefined : end);
}

describe('migrate report', () => {
  const md = renderRunReport(state, { generatedAt: new Date('2026-11-26T00:00:00.000Z') });

  it('heads with the run, playbook, status, elapsed time and params (secrets stay masked)', () => {
    expect(md.startsWith('# Run `sync-to-async-orders`\n\n')).toBe(true);
    expect(md).toContain('| **Playbook** | `sync-to-async` (playbooks/sync-to-async.yaml, sha256 `abcdef012345`) |');
    expect(md).toContain('| **Status** | completed |');
    expect(md).toContain('| **Elapsed** | 5m00s |');
    expect(md).toContain('| **Invocations** | 2 (4m01s running in all) |');
    expect(md).toContain('| **Params** | `topic=orders`, `token=***` |');
  });

  it('lists steps with status, attempts and the duration of the attempt that succeeded', () => {
    const steps = section(md, 'Steps');
    expect(steps).toContain('| 1 | `register` | `schema.register` | done | 2 | 2026-11-25T10:00:00.000Z | 2026-11-25T10:01:00.000Z | 900ms | schema Orders v1 is registered |');
    expect(steps).toContain('| 5 | `drained` | `kafka.drain` | done | 1 |');
    expect(steps).toContain('| 2m00s | lag 0 |');
  });

  it('records who approved what, when and via what; skips with reasons', () => {
    expect(section(md, 'Approvals')).toContain('| `approve-switch` | alice@laptop | `--approve` | 2026-11-25T10:02:00.000Z |');
    expect(section(md, 'Skipped steps')).toContain('| `sync-call-removed` | bob@ci | removed in \\| PR 12 | 2026-11-25T10:01:30.000Z |');
  });

  it('records flag flips with the value before, lag samples, schema versions and failures with causes', () => {
    expect(section(md, 'Flag flips')).toContain('| 2026-11-25T10:02:01.500Z | `switch` | `orders-async` | on | off |');
    const samples = section(md, 'Progress samples');
    expect(samples).toContain('| 2026-11-25T10:03:01.000Z | `drained` | 1s | lag 120 · 2/3 partitions lagging · 40/s · ETA 3s | lag 120: partition 0 lag 100 |');
    expect(samples).toContain('lag 0 · 0/3 partitions lagging');
    expect(section(md, 'Schema versions')).toContain('| `register` | `Orders` | 1 | schemas/Orders/1.json | by this run, 2026-11-25T10:01:00.000Z |');
    expect(section(md, 'Failures')).toContain('| 2026-11-25T10:00:01.000Z | `register` | not backward compatible | field removed: &lt;payload.id&gt; |');
  });

  it('keeps the whole history as a timeline', () => {
    const timeline = section(md, 'Timeline');
    expect(timeline).toContain('10 entries, oldest first');
    expect(timeline).toContain('| 2026-11-25T10:01:30.000Z | `step.skipped` | `sync-call-removed` | skipped by bob@ci: removed in \\| PR 12 |');
  });

  it('reads what a step recorded through its type, whatever the type is called', () => {
    // A type of someone's own that switches flags, beside the built-in flag.set.
    const toggle: StepType<unknown> = { ...(flagSetStep as StepType<unknown>), type: 'acme.toggle' };
    const own: RunState = {
      ...state,
      steps: state.steps.map((st) => (st.id === 'switch' ? { ...st, uses: 'acme.toggle' } : st)),
    };
    const flips = section(renderRunReport(own, { stepTypes: new Map([['acme.toggle', toggle]]) }), 'Flag flips');
    expect(flips).toContain('| 2026-11-25T10:02:01.500Z | `switch` | `orders-async` | on | off |');
    // Without a type that says so, nothing reads the outputs as a flag switch or a schema version.
    const untyped = renderRunReport(state, { stepTypes: new Map() });
    expect(section(untyped, 'Flag flips')).toBe('## Flag flips\n\nNone.\n');
    expect(section(untyped, 'Schema versions')).toBe('## Schema versions\n\nNone.\n');
  });

  it('formats metrics it does not know as name value', () => {
    expect(formatMetrics({ newEvents: 5, lag: 1 })).toBe('lag 1 · newEvents 5');
  });
});

describe('migrate report: charts and HTML', () => {
  const verify = (at: string, events: number) => ({ at, type: 'step.progress', step: 'events-flow', detail: { progress: { message: `${events} new events`, metrics: { events, lag: 3 } }, elapsedMs: 0 } });
  const charted: RunState = {
    ...state,
    steps: [...state.steps, { id: 'events-flow', uses: 'kafka.verify', status: 'done', attempts: 1 }],
    history: [...state.history, verify('2026-11-25T10:04:00.000Z', 0), verify('2026-11-25T10:04:05.000Z', 50), verify('2026-11-25T10:04:10.000Z', 150), verify('2026-11-25T10:04:15.000Z', 20)],
  };

  it('draws lag and event rate per step: the rate a step reports, else the growth of its event count (a count that fell restarted)', () => {
    const charts = reportCharts(charted);
    expect(charts.map((c) => c.id)).toEqual(['drained-lag', 'drained-rate', 'events-flow-lag', 'events-flow-rate']);
    const rate = charts.find((c) => c.id === 'events-flow-rate')?.svg ?? '';
    assertWellFormedXml(rate);
    // 50 events in 5s, then 100 in 5s: 10/s and 20/s; the fall to 20 is a restart, not a rate.
    expect(rate.match(/<circle /g)).toHaveLength(2);
    expect(rate).toContain('>20</text>');
  });

  it('links each chart from Markdown written to a file, and only names them on stdout', () => {
    const toFile = renderRunReport(charted, { chartFile: (c) => `audit-${c.id}.svg` });
    expect(section(toFile, 'Charts')).toContain('![Consumer lag: drained](audit-drained-lag.svg)\n\n![Event rate: drained](audit-drained-rate.svg)');
    const stdout = section(renderRunReport(charted), 'Charts');
    expect(stdout).toContain('`--out FILE` writes each as an SVG file beside the report');
    expect(stdout).toContain('- Event rate: events-flow\n');
  });

  it('has no Charts section for a run without progress metrics', () => {
    const plain = { ...state, history: state.history.filter((h) => h.type !== 'step.progress') };
    expect(renderRunReport(plain)).not.toContain('## Charts');
  });

  it('as HTML: the same report with the charts inline and every text escaped', () => {
    const hostile: RunState = { ...charted, name: '<img src=x onerror=alert(1)>', params: { topic: '"><script>x</script>' } };
    const page = htmlPage(`Run ${hostile.name}`, renderRunReport(hostile, { format: htmlFormat }));
    expect(page).not.toMatch(/<script|<img/);
    expect(page).toContain('<h1>Run <code>&lt;img src=x onerror=alert(1)&gt;</code></h1>');
    expect(page.match(/<figure><svg /g)).toHaveLength(4);
    expect(page).toContain('<h2>Approvals</h2>');
    expect(page).toContain('<td><code>approve-switch</code></td><td>alice@laptop</td>');
  });
});
