import type { FencedWrite } from '../state/kafka-fence.js';
import type { RunState, StepState } from '../state/run-state.js';
import { formatDuration } from '../util/time.js';
import type { Painter } from './paint.js';
import { formatTable, type Cell } from './table.js';

const icons: Record<StepState['status'], string> = {
  pending: '○',
  running: '●',
  waiting: '⏸',
  done: '✓',
  failed: '✗',
  skipped: '↷',
};

/** Runs in these states change only when someone runs migrate again. */
export const finalRunStatuses: ReadonlySet<RunState['status']> = new Set(['completed', 'failed', 'rolled-back']);

function statusStyle(status: string, c: Painter): (s: string) => string {
  if (status === 'completed' || status === 'done' || status === 'rolled-back') return c.green;
  if (status === 'failed') return c.red;
  if (status === 'paused' || status === 'waiting' || status === 'running') return c.yellow;
  return c.dim;
}

function ms(iso: string | undefined): number | undefined {
  const t = iso === undefined ? NaN : Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** "12s ago", "3h05m ago". */
export function ago(iso: string, now: number): string {
  const t = ms(iso);
  return t === undefined ? iso : `${formatDuration(Math.max(0, now - t))} ago`;
}

/** Since the run was created: until now while it may still move, until its last update once it is over. */
export function runElapsed(s: RunState, now: number): number {
  const from = ms(s.createdAt) ?? now;
  const to = finalRunStatuses.has(s.status) ? (ms(s.updatedAt) ?? now) : now;
  return Math.max(0, to - from);
}

/** The step a run is at: running, waiting at a gate, failed, or next to run; undefined once every step is done. */
export function currentStep(s: RunState): StepState | undefined {
  return s.steps.find((st) => st.status !== 'done' && st.status !== 'skipped');
}

/** How long a step took (a failed one: until it failed, from the audit trail), or has taken so far while it runs. */
export function stepDuration(st: StepState, now: number, history: RunState['history'] = []): number | undefined {
  const from = ms(st.startedAt);
  if (from === undefined) return undefined;
  const failedAt = st.status === 'failed' ? history.findLast((h) => h.type === 'step.failed' && h.step === st.id)?.at : undefined;
  const to = ms(st.finishedAt) ?? (st.status === 'running' ? now : ms(failedAt));
  return to === undefined ? undefined : Math.max(0, to - from);
}

function stepsDone(s: RunState): string {
  const done = s.steps.filter((st) => st.status === 'done').length;
  const skipped = s.steps.filter((st) => st.status === 'skipped').length;
  return `${done + skipped}/${s.steps.length}${skipped ? ` (${skipped} skipped)` : ''}`;
}

function currentCell(s: RunState, c: Painter): Cell {
  if (s.status === 'completed' || s.status === 'rolled-back') return { text: '—', style: c.dim };
  const st = currentStep(s);
  if (!st) return { text: '—', style: c.dim };
  const interrupted = s.pausedAt === 'interrupted' ? ' (interrupted)' : '';
  return { text: `${icons[st.status]} ${st.id}${interrupted}`, style: statusStyle(st.status, c) };
}

/** Every run, one line each, aligned: status, steps done of all, time since it began, where it is. */
export function renderRunTable(states: RunState[], c: Painter, dir: string, now: number = Date.now()): string {
  if (states.length === 0) return `No runs in ${dir}\n`;
  const right = new Set(['STEPS', 'ELAPSED']);
  const head = ['RUN', 'PLAYBOOK', 'STATUS', 'STEPS', 'ELAPSED', 'CURRENT', 'UPDATED'].map((text): Cell => ({ text, style: c.bold, align: right.has(text) ? 'right' : 'left' }));
  const rows = states.map((s): (Cell | string)[] => [
    { text: s.name, style: c.bold },
    s.playbook.name,
    { text: s.status, style: statusStyle(s.status, c) },
    { text: stepsDone(s), align: 'right' },
    { text: formatDuration(runElapsed(s, now)), align: 'right' },
    currentCell(s, c),
    { text: ago(s.updatedAt, now), style: c.dim },
  ]);
  return formatTable([head, ...rows]).join('\n') + '\n';
}

/** One run: each step's status, duration and attempts, approvals and skips, and the whole chain of causes of a failure. */
/** The records of a run its store ignores (late writes of a holder that lost the lock), under the run's detail; empty when none. */
export function renderFencedWrites(fenced: readonly FencedWrite[], c: Painter): string {
  if (!fenced.length) return '';
  const lines = ['', c.yellow(`${fenced.length} fenced ${fenced.length === 1 ? 'write' : 'writes'} (ignored by every reader; the run is as shown above):`)];
  for (const f of fenced) lines.push(c.dim(`  offset ${f.offset}: write ${f.seq} of the holder with token ${f.token}, ${f.why} (token ${f.fencedBy})`));
  return lines.join('\n') + '\n';
}

export function renderRunDetail(s: RunState, c: Painter, now: number = Date.now()): string {
  const where = s.pausedAt ? (s.pausedAt === 'interrupted' ? ' (interrupted)' : ` at ${s.pausedAt}`) : '';
  const lines = [
    `${c.bold(s.name)}  ${statusStyle(s.status, c)(s.status)}${where}`,
    c.dim(`playbook ${s.playbook.name} · started ${s.createdAt} · elapsed ${formatDuration(runElapsed(s, now))} · ${stepsDone(s)} steps · updated ${ago(s.updatedAt, now)}`),
  ];
  const params = Object.entries(s.params);
  if (params.length) lines.push(c.dim(`params: ${params.map(([k, v]) => `${k}=${v}`).join(' ')}`));
  lines.push('');

  const right = new Set(['TOOK', 'TRIES']);
  const head = ['  STEP', 'STATUS', 'TOOK', 'TRIES', 'SUMMARY'].map((text): Cell => ({ text, style: c.bold, align: right.has(text) ? 'right' : 'left' }));
  const rows = s.steps.map((st): (Cell | string)[] => {
    const took = stepDuration(st, now, s.history);
    return [
      // The icon carries its color inside the cell text: widths are measured without escape codes.
      `${statusStyle(st.status, c)(icons[st.status])} ${st.id}`,
      { text: st.status, style: statusStyle(st.status, c) },
      { text: took === undefined ? '' : formatDuration(took), align: 'right', ...(st.status === 'running' ? { style: c.yellow } : {}) },
      { text: st.attempts ? String(st.attempts) : '', align: 'right', ...(st.attempts > 1 ? { style: c.yellow } : {}) },
      // A table cell holds one line: a message of several (an exec command's last output) goes on under the row.
      st.status === 'failed' && st.error ? { text: firstLine(st.error.message), style: c.red } : firstLine(st.summary ?? ''),
    ];
  });
  const table = formatTable([head, ...rows], { indent: '  ' });
  lines.push(table[0] as string);
  s.steps.forEach((st, i) => {
    lines.push(table[i + 1] as string);
    const under = '        ';
    if (st.approval) lines.push(c.dim(`${under}approved by ${st.approval.by} via ${st.approval.via} at ${st.approval.at}`));
    if (st.skip) lines.push(c.dim(`${under}skipped by ${st.skip.by} at ${st.skip.at}: ${st.skip.reason}`));
    const rest = st.status === 'failed' && st.error ? moreLines(st.error.message) : moreLines(st.summary ?? '');
    for (const line of rest) lines.push(c.dim(`${under}${line}`));
    if (st.error) {
      // The summary column holds the failure; the causes under it, outermost first.
      if (st.status !== 'failed') lines.push(`${under}${c.red(`last error: ${st.error.message}`)}`);
      st.error.causes.forEach((cause, depth) => lines.push(c.dim(`${under}${'  '.repeat(depth)}└ caused by: ${cause}`)));
    }
  });
  return lines.join('\n') + '\n';
}

function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end < 0 ? text : text.slice(0, end);
}

function moreLines(text: string): string[] {
  return text.split('\n').slice(1).filter((l) => l.trim() !== '');
}
