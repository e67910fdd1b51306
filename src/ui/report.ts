/**
 * `migrate report`: a run's audit trail as Markdown, from its saved state and history. The state
 * never holds secrets (secret params are stored as ***), so neither does the report.
 */
import type { HistoryEntry, RunState, StepState } from '../state/run-state.js';
import type { FlagSwitchOutputs, OutputKinds, StepTypes } from '../steps/contract.js';
import { stepTypes } from '../steps/index.js';
import { formatDuration } from '../util/time.js';
import type { ReportFormat } from './report-format.js';
import { markdownFormat } from './report-markdown.js';
import { reportCharts, type ReportChart } from './report-charts.js';

type Detail = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Detail | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Detail) : undefined);

function between(from?: string, to?: string): string {
  if (!from || !to) return '';
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? formatDuration(ms) : '';
}

/**
 * How long a step took to converge: its last step.done in the history (the attempt that
 * succeeded), else first start to finish, which spans every attempt and pause in between.
 */
export function stepDurationMs(s: RunState, st: StepState): number | undefined {
  const done = s.history.findLast((h) => h.type === 'step.done' && h.step === st.id);
  const ms = num(done?.detail?.durationMs);
  if (ms !== undefined) return ms;
  if (!st.startedAt || !st.finishedAt) return undefined;
  const span = Date.parse(st.finishedAt) - Date.parse(st.startedAt);
  return Number.isFinite(span) && span >= 0 ? span : undefined;
}

/** "on", "off", "disabled (off)": a flag value as a flag switch recorded it. */
function flagValue(previous: FlagSwitchOutputs['previous']): string {
  if (previous === null) return 'did not exist';
  if (!previous) return '';
  const value = previous.value === true ? 'on' : previous.value === false ? 'off' : JSON.stringify(previous.value ?? null);
  return previous.enabled === false ? `disabled (${value})` : value;
}

/** Whether a step's type records outputs of `kind` (a flag switch, a schema version). */
function records(types: StepTypes, uses: string | undefined, kind: keyof OutputKinds): boolean {
  return uses !== undefined && types.get(uses)?.outputs?.kind === kind;
}

/** What a step recorded, read through its type's outputs schema: undefined unless they are of `kind` and fit it. */
function recorded<K extends keyof OutputKinds>(types: StepTypes, uses: string | undefined, kind: K, outputs: unknown): OutputKinds[K] | undefined {
  const declared = uses === undefined ? undefined : types.get(uses)?.outputs;
  if (declared?.kind !== kind) return undefined;
  const parsed = declared.schema.safeParse(outputs);
  return parsed.success ? (parsed.data as OutputKinds[K]) : undefined;
}

/** "lag 120 · 2/3 partitions lagging · 40/s · ETA 3s", or k=v for metrics it does not know. */
export function formatMetrics(m: Detail): string {
  const parts: string[] = [];
  const rest = { ...m };
  const take = (k: string) => {
    const v = num(rest[k]);
    delete rest[k];
    return v;
  };
  const lag = take('lag');
  const partitions = take('partitions');
  const lagging = take('lagging');
  const rate = take('ratePerSec');
  const eta = take('etaMs');
  if (lag !== undefined) parts.push(`lag ${lag}`);
  if (lagging !== undefined && partitions !== undefined) parts.push(`${lagging}/${partitions} partitions lagging`);
  else if (partitions !== undefined) parts.push(`${partitions} partitions`);
  if (rate !== undefined) parts.push(`${rate}/s`);
  if (eta !== undefined) parts.push(`ETA ${formatDuration(eta)}`);
  for (const [k, v] of Object.entries(rest)) parts.push(`${k} ${typeof v === 'number' ? v : JSON.stringify(v)}`);
  return parts.join(' · ');
}

/** How `renderRunReport` writes: when, in which format, and where the charts are. */
export interface RunReportOptions {
  generatedAt?: Date;
  /** A step's outputs are read through its type (default: the built-in ones). */
  stepTypes?: StepTypes;
  /** Markdown (default) or HTML. */
  format?: ReportFormat;
  /** The file (relative to the report) each chart was written to; without it Markdown only names the charts. */
  chartFile?: (chart: ReportChart) => string | undefined;
}

/** The whole report. Charts appear only for runs with progress samples to draw. */
export function renderRunReport(s: RunState, o: RunReportOptions = {}): string {
  const types = o.stepTypes ?? stepTypes;
  const f = o.format ?? markdownFormat;
  const out: string[] = [];
  const byId = new Map(s.steps.map((st) => [st.id, st]));
  const history = s.history;
  const entries = (type: string) => history.filter((h) => h.type === type);

  out.push(f.heading(1, `Run ${f.code(s.name)}`));
  const finished = entries('run.finished');
  const activeMs = finished.reduce((sum, h) => sum + (num(h.detail?.durationMs) ?? 0), 0);
  const params = Object.entries(s.params);
  const facts: [string, string][] = [
    ['Playbook', `${f.codeCell(s.playbook.name)} (${f.cell(s.playbook.file)}, sha256 ${f.codeCell(s.playbook.checksum.slice(0, 12))})`],
    ['Status', `${f.cell(s.status)}${s.pausedAt ? ` at ${f.codeCell(s.pausedAt)}` : ''}`],
    ['Started', f.cell(s.createdAt)],
    ['Last update', f.cell(s.updatedAt)],
    ['Elapsed', between(s.createdAt, s.updatedAt) || '0ms'],
    ['Invocations', finished.length ? `${finished.length} (${formatDuration(activeMs)} running in all)` : ''],
    ['Params', params.length ? params.map(([k, v]) => f.codeCell(`${k}=${v}`)).join(', ') : '(none)'],
  ];
  out.push(f.table(['', ''], facts.map(([k, v]) => [f.bold(k), v])));

  out.push(f.heading(2, 'Steps'));
  out.push(
    f.table(
      ['#', 'Step', 'Type', 'Status', 'Attempts', 'Started', 'Finished', 'Duration', 'Summary'],
      s.steps.map((st, i) => [
        String(i + 1),
        f.codeCell(st.id),
        f.codeCell(st.uses),
        st.status,
        String(st.attempts),
        f.cell(st.startedAt ?? ''),
        f.cell(st.finishedAt ?? ''),
        ((ms) => (ms === undefined ? '' : formatDuration(ms)))(stepDurationMs(s, st)),
        f.cell(st.summary ?? st.error?.message ?? ''),
      ]),
    ),
  );

  section(f, out, 'Approvals', ['Gate', 'Approved by', 'Via', 'At'], approvals(f, s));
  section(f, out, 'Skipped steps', ['Step', 'Skipped by', 'Reason', 'At'], skips(f, s));
  section(f, out, 'Flag flips', ['At', 'Step', 'Flag', 'Switched to', 'Before'], flagFlips(f, s, byId, types));
  section(
    f,
    out,
    'Progress samples',
    ['At', 'Step', 'Waiting', 'Metrics', 'Message'],
    entries('step.progress')
      .map((h) => ({ h, progress: obj(h.detail?.progress) }))
      .filter(({ progress }) => progress && obj(progress.metrics))
      .map(({ h, progress }) => [
        f.cell(h.at),
        f.codeCell(h.step ?? ''),
        num(h.detail?.elapsedMs) !== undefined ? formatDuration(num(h.detail?.elapsedMs) as number) : '',
        f.cell(formatMetrics(obj(progress?.metrics) ?? {})),
        f.cell(str(progress?.message) ?? ''),
      ]),
  );
  const charts = reportCharts(s);
  if (charts.length) {
    out.push(f.heading(2, 'Charts'));
    const files = charts.map((c) => o.chartFile?.(c));
    if (!f.inlinesCharts && files.some((file) => !file)) {
      out.push(f.para(`Drawn from the progress samples above; ${f.code('--out FILE')} writes each as an SVG file beside the report, ${f.code('--format html')} puts them in the page:`));
    }
    charts.forEach((c, i) => out.push(f.chart({ ...c, ...(files[i] ? { file: files[i] } : {}) })));
  }
  section(f, out, 'Schema versions', ['Step', 'Event', 'Version', 'Location', 'Registered'], schemaVersions(f, s, types));
  section(f, out, 'Failures', ['At', 'Step', 'Error', 'Caused by'], failures(f, s));
  section(f, out, 'Rollback', ['At', 'Step', 'What happened'], rollback(f, history));

  out.push(f.heading(2, 'Timeline'));
  if (history.length === 0) out.push(f.empty('No history recorded.'));
  else {
    const rows = history.map((h) => [f.cell(h.at), f.codeCell(h.type), h.step ? f.codeCell(h.step) : '', f.cell(describe(h))]);
    out.push(f.details(`${history.length} ${history.length === 1 ? 'entry' : 'entries'}, oldest first`, f.table(['At', 'Event', 'Step', 'Detail'], rows)));
  }
  if (s.status === 'paused' && s.pausedAt && s.pausedAt !== 'interrupted') {
    const waiting = history.findLast((h) => h.type === 'gate.waiting' && h.step === s.pausedAt);
    const continueWith = str(waiting?.detail?.continueWith) ?? `migrate run ${s.playbook.ref} --name ${s.name} --approve ${s.pausedAt}`;
    out.push(f.heading(2, 'Waiting'));
    out.push(f.para(`The run waits for approval at ${f.code(s.pausedAt)}; continue with:`));
    out.push(f.block(continueWith, 'sh'));
  }
  out.push(f.footer(`Generated by ${f.code('migrate report')}${o.generatedAt ? ` at ${o.generatedAt.toISOString()}` : ''}.`));
  return out.join('');
}

function section(f: ReportFormat, out: string[], title: string, head: string[], rows: string[][]): void {
  out.push(f.heading(2, title));
  out.push(rows.length ? f.table(head, rows) : f.empty('None.'));
}

/** Every approval in the history, and any the state holds that the (bounded) history lost. */
function approvals(f: ReportFormat, s: RunState): string[][] {
  const rows = s.history
    .filter((h) => h.type === 'gate.approved')
    .map((h) => ({ step: h.step ?? '', by: str(h.detail?.by) ?? '', via: str(h.detail?.via) ?? '', at: h.at }));
  for (const st of s.steps) {
    if (st.approval && !rows.some((r) => r.step === st.id && r.by === st.approval?.by && r.via === st.approval?.via)) {
      rows.push({ step: st.id, ...st.approval });
    }
  }
  return rows.sort((a, b) => a.at.localeCompare(b.at)).map((r) => [f.codeCell(r.step), f.cell(r.by), f.codeCell(r.via), f.cell(r.at)]);
}

function skips(f: ReportFormat, s: RunState): string[][] {
  const rows = s.history
    .filter((h) => h.type === 'step.skipped')
    .map((h) => ({ step: h.step ?? '', by: str(h.detail?.by) ?? '', reason: str(h.detail?.reason) ?? '', at: h.at }));
  for (const st of s.steps) {
    const skip = obj((st as StepState & { skip?: unknown }).skip);
    if (skip && !rows.some((r) => r.step === st.id)) rows.push({ step: st.id, by: str(skip.by) ?? '', reason: str(skip.reason) ?? '', at: str(skip.at) ?? '' });
    else if (st.status === 'skipped' && !rows.some((r) => r.step === st.id)) rows.push({ step: st.id, by: '', reason: st.summary ?? '', at: st.finishedAt ?? '' });
  }
  return rows.map((r) => [f.codeCell(r.step), f.cell(r.by), f.cell(r.reason), f.cell(r.at)]);
}

/** Steps that switch a flag: each switch applied (from the history), and flags found already as declared. */
function flagFlips(f: ReportFormat, s: RunState, byId: Map<string, StepState>, types: StepTypes): string[][] {
  const rows: string[][] = [];
  const applied = new Set<string>();
  for (const h of s.history) {
    const uses = h.step && byId.get(h.step)?.uses;
    if (!h.step || !records(types, uses, 'flag switch')) continue;
    const outputs = recorded(types, uses, 'flag switch', h.detail?.outputs);
    if (h.type === 'step.applied' && outputs) {
      applied.add(h.step);
      const changed = outputs.changed === false ? ' (unchanged)' : '';
      rows.push([f.cell(h.at), f.codeCell(h.step), f.codeCell(outputs.key), `${outputs.on ? 'on' : 'off'}${changed}`, f.cell(flagValue(outputs.previous))]);
    } else if (h.type === 'step.undone') {
      rows.push([f.cell(h.at), f.codeCell(h.step), f.codeCell(outputs?.key ?? ''), 'restored (rollback)', '']);
    }
  }
  for (const st of s.steps) {
    const o = applied.has(st.id) ? undefined : recorded(types, st.uses, 'flag switch', st.outputs);
    if (!o) continue;
    const switched = o.previous !== undefined;
    rows.push([
      f.cell(st.finishedAt ?? ''),
      f.codeCell(st.id),
      f.codeCell(o.key),
      `${o.on ? 'on' : 'off'}${switched ? '' : ' (already)'}`,
      switched ? f.cell(flagValue(o.previous)) : f.cell(o.on ? 'on' : 'off'),
    ]);
  }
  return rows;
}

/** Steps that register a schema: the version each recorded, and whether this run registered it. */
function schemaVersions(f: ReportFormat, s: RunState, types: StepTypes): string[][] {
  const registeredHere = new Set(s.history.filter((h) => h.type === 'step.applied' && h.step).map((h) => h.step));
  return s.steps.flatMap((st) => {
    const o = recorded(types, st.uses, 'schema version', st.outputs);
    if (!o) return [];
    const id = o.id !== undefined ? ` (id ${o.id})` : '';
    return [
      [
        f.codeCell(st.id),
        f.codeCell(o.event),
        String(o.version),
        f.cell(o.location + id),
        registeredHere.has(st.id) ? `by this run${st.finishedAt ? `, ${f.cell(st.finishedAt)}` : ''}` : 'already registered',
      ],
    ];
  });
}

/** Every failure in the history (also those a later attempt got past), and a current one the history lost. */
function failures(f: ReportFormat, s: RunState): string[][] {
  const rows = s.history
    .filter((h) => h.type === 'step.failed' || h.type === 'step.undo-failed')
    .map((h) => ({ at: h.at, step: h.step ?? '', error: str(h.detail?.error) ?? '', causes: (h.detail?.causes as unknown[] | undefined)?.filter((c): c is string => typeof c === 'string') ?? [], undo: h.type === 'step.undo-failed' }));
  for (const st of s.steps) {
    if (st.error && !rows.some((r) => r.step === st.id && r.error === st.error?.message)) {
      rows.push({ at: st.finishedAt ?? s.updatedAt, step: st.id, error: st.error.message, causes: st.error.causes, undo: false });
    }
  }
  return rows.map((r) => [f.cell(r.at), f.codeCell(r.step), f.cell((r.undo ? 'undo failed: ' : '') + r.error), f.cell(r.causes.join('\n'))]);
}

function rollback(f: ReportFormat, history: readonly HistoryEntry[]): string[][] {
  const rows: string[][] = [];
  for (const h of history) {
    const d = h.detail ?? {};
    if (h.type === 'rollback.started') rows.push([f.cell(h.at), '', f.cell(`rollback started by ${str(d.by) ?? '?'}${str(d.to) ? ` (to ${str(d.to)})` : ''}`)]);
    else if (h.type === 'step.undone') rows.push([f.cell(h.at), f.codeCell(h.step ?? ''), f.cell(`undone: ${str(d.summary) ?? ''}`)]);
    else if (h.type === 'step.not-undoable') rows.push([f.cell(h.at), f.codeCell(h.step ?? ''), f.cell(`not undoable: ${str(d.reason) ?? ''}`)]);
    else if (h.type === 'rollback.finished') rows.push([f.cell(h.at), f.codeCell(str(d.step) ?? ''), f.cell(`rollback ${str(d.status) ?? ''}`)]);
  }
  return rows;
}

/** One line for a history entry in the timeline. */
function describe(h: HistoryEntry): string {
  const d = h.detail ?? {};
  switch (h.type) {
    case 'step.started':
      return `attempt ${num(d.attempt) ?? '?'}: ${str(d.title) ?? ''}`;
    case 'step.done':
      return `${str(d.summary) ?? ''}${d.alreadyDone ? ' (already satisfied)' : num(d.durationMs) ? ` (${formatDuration(num(d.durationMs) as number)})` : ''}`;
    case 'step.applied':
      return obj(d.outputs) && Object.keys(obj(d.outputs) as Detail).length ? `applied: ${JSON.stringify(d.outputs)}` : 'applied';
    case 'step.progress':
      return str(obj(d.progress)?.message) ?? '';
    case 'step.retry':
      return `${str(d.error) ?? ''}; retry ${num(d.retry) ?? '?'} in ${formatDuration(num(d.delayMs) ?? 0)}`;
    case 'step.failed':
      return [str(d.error) ?? '', ...((d.causes as string[] | undefined) ?? []).map((c) => `caused by: ${c}`)].join('\n');
    case 'gate.waiting':
      return `waiting for approval: ${str(d.message) ?? ''}`;
    case 'gate.approved':
      return `approved by ${str(d.by) ?? '?'} (${str(d.via) ?? '?'})`;
    case 'step.skipped':
      return `skipped by ${str(d.by) ?? '?'}: ${str(d.reason) ?? ''}`;
    case 'run.finished':
      return `${str(d.status) ?? ''}${str(d.step) ? ` at ${str(d.step)}` : ''} after ${formatDuration(num(d.durationMs) ?? 0)}`;
    default:
      return Object.keys(d).length ? JSON.stringify(d) : '';
  }
}
