// What the dashboard's page is sent: plain data computed from stored run states, so the page
// only draws. Pure functions: the server and the unit test call them on states.
import type { HistoryEntry, RunState, StepState } from '../state/run-state.js';
import { waitSeries } from '../engine/history.js';
import { currentStep } from '../ui/status-view.js';

/** One row of the run list. */
export interface RunRow {
  name: string;
  playbook: string;
  status: RunState['status'];
  pausedAt?: string;
  updatedAt: string;
  /** Steps done or skipped, of all. */
  progress: { finished: number; total: number };
  /** The first step not done or skipped, with its latest word. */
  current?: { id: string; status: StepState['status']; message?: string };
}

/** One point of a wait's chart: time (ms since epoch), lag and event rate (per second) where known. */
export interface WaitSample {
  t: number;
  lag: number | null;
  rate: number | null;
}

/** One step on the run's timeline. */
export interface TimelineStep extends StepState {
  durationMs?: number;
  /** Retries the history recorded (transient errors tried again), newest last. */
  retries: { at: string; error: string }[];
  /** The step waits at a gate now: the page offers to approve it. */
  approvable: boolean;
  /** The step can be skipped from the page (not done, not skipped). */
  skippable: boolean;
  /** Progress samples of the step's waits, oldest first. */
  samples: WaitSample[];
}

/** Everything the page shows of one run. */
export interface RunDetail {
  name: string;
  playbook: RunState['playbook'];
  params: RunState['params'];
  status: RunState['status'];
  pausedAt?: string;
  createdAt: string;
  updatedAt: string;
  steps: TimelineStep[];
  /** The failed step's error and its causes, outermost first. */
  failure?: { step: string; chain: string[] };
}

const finished = (st: StepState) => st.status === 'done' || st.status === 'skipped';

/** The run list's row for a run. */
export function runRow(s: RunState): RunRow {
  const current = currentStep(s);
  const message = current && lastProgress(s.history, current.id);
  return {
    name: s.name,
    playbook: s.playbook.name,
    status: s.status,
    ...(s.pausedAt ? { pausedAt: s.pausedAt } : {}),
    updatedAt: s.updatedAt,
    progress: { finished: s.steps.filter(finished).length, total: s.steps.length },
    ...(current ? { current: { id: current.id, status: current.status, ...(message ?? current.summary ? { message: message ?? current.summary } : {}) } } : {}),
  };
}

/** A run in detail: its steps as a timeline with their wait samples, and the failure's cause chain. */
export function runDetail(s: RunState): RunDetail {
  const failed = s.steps.find((st) => st.status === 'failed' && st.error);
  return {
    name: s.name,
    playbook: s.playbook,
    params: s.params,
    status: s.status,
    ...(s.pausedAt ? { pausedAt: s.pausedAt } : {}),
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    steps: s.steps.map((st) => {
      const start = st.startedAt ? Date.parse(st.startedAt) : undefined;
      const end = st.finishedAt ? Date.parse(st.finishedAt) : undefined;
      return {
        ...st,
        ...(start !== undefined && end !== undefined ? { durationMs: end - start } : {}),
        retries: s.history.filter((h) => h.type === 'step.retry' && h.step === st.id).map((h) => ({ at: h.at, error: String(h.detail?.error ?? '') })),
        approvable: s.pausedAt === st.id && st.status === 'waiting' && s.status === 'paused',
        skippable: !finished(st) && s.status !== 'completed' && s.status !== 'rolled-back',
        samples: waitSamples(s.history, st.id),
      };
    }),
    ...(failed?.error ? { failure: { step: failed.id, chain: [failed.error.message, ...failed.error.causes] } } : {}),
  };
}

/** The step's lag and event rate over its wait (waitSeries, as the report charts them), one point per sample that has either. */
export function waitSamples(history: readonly HistoryEntry[], step: string): WaitSample[] {
  const { lag, rate } = waitSeries(history, step);
  const points = new Map<number, WaitSample>();
  const at = (t: number) => points.get(t) ?? points.set(t, { t, lag: null, rate: null }).get(t)!;
  for (const p of lag) at(p.t).lag = p.v;
  for (const p of rate) at(p.t).rate = p.v;
  return [...points.values()].sort((a, b) => a.t - b.t);
}

function lastProgress(history: readonly HistoryEntry[], step: string): string | undefined {
  const h = history.findLast((e) => e.type === 'step.progress' && e.step === step);
  const message = (h?.detail?.progress as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message : undefined;
}
