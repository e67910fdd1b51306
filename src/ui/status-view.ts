import type { RunState, StepState } from '../state/run-state.js';
import { formatDuration } from '../util/time.js';
import type { Painter } from './paint.js';

const icons: Record<StepState['status'], string> = {
  pending: '○',
  running: '●',
  waiting: '⏸',
  done: '✓',
  failed: '✗',
  skipped: '↷',
};

function colorStatus(status: string, c: Painter): string {
  if (status === 'completed' || status === 'done') return c.green(status);
  if (status === 'failed') return c.red(status);
  if (status === 'paused' || status === 'waiting' || status === 'running') return c.yellow(status);
  return status;
}

function duration(from?: string, to?: string): string {
  if (!from || !to) return '';
  return formatDuration(Date.parse(to) - Date.parse(from));
}

/** Every run, one line each, aligned. */
export function renderRunTable(states: RunState[], c: Painter, dir: string): string {
  if (states.length === 0) return `No runs in ${dir}\n`;
  const rows = states.map((s) => [
    s.name,
    s.playbook.name,
    s.status + (s.pausedAt ? ` (${s.pausedAt})` : ''),
    `${s.steps.filter((st) => st.status === 'done' || st.status === 'skipped').length}/${s.steps.length}`,
    s.updatedAt,
  ]);
  const head = ['RUN', 'PLAYBOOK', 'STATUS', 'STEPS', 'UPDATED'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const fmt = (r: string[], paintStatus: boolean) =>
    r.map((cell, i) => {
      const padded = cell.padEnd(widths[i] as number);
      return paintStatus && i === 2 ? padded.replace(cell.split(' ')[0] as string, (m) => colorStatus(m, c)) : padded;
    }).join('  ').trimEnd();
  return [c.bold(fmt(head, false)), ...rows.map((r) => fmt(r, true))].join('\n') + '\n';
}

/** One run: its steps with status, attempts, durations, and the whole chain of causes of a failure. */
export function renderRunDetail(s: RunState, c: Painter): string {
  const lines = [
    `${c.bold(s.name)}  ${colorStatus(s.status, c)}${s.pausedAt ? ` at ${s.pausedAt}` : ''}  ${c.dim(`playbook ${s.playbook.name}, updated ${s.updatedAt}`)}`,
  ];
  const params = Object.entries(s.params);
  if (params.length) lines.push(c.dim(`params: ${params.map(([k, v]) => `${k}=${v}`).join(' ')}`));
  const idWidth = Math.max(...s.steps.map((st) => st.id.length));
  for (const st of s.steps) {
    const took = duration(st.startedAt, st.finishedAt);
    const meta = [st.attempts > 1 ? `${st.attempts} attempts` : '', took].filter(Boolean).join(', ');
    lines.push(`  ${icons[st.status]} ${st.id.padEnd(idWidth)}  ${colorStatus(st.status, c).padEnd(7)}  ${st.summary ?? ''}${meta ? c.dim(` (${meta})`) : ''}`);
    if (st.approval) lines.push(c.dim(`      approved by ${st.approval.by} via ${st.approval.via} at ${st.approval.at}`));
    if (st.error) {
      lines.push(`      ${c.red(st.error.message)}`);
      for (const cause of st.error.causes) lines.push(c.dim(`      caused by: ${cause}`));
    }
  }
  return lines.join('\n') + '\n';
}
