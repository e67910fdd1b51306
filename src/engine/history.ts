import os from 'node:os';
import type { HistoryEntry, RunState } from '../state/run-state.js';
import type { RunStore } from '../state/store.js';
import type { EventSink, RunEvent } from './events.js';

/** Most entries a run keeps in its history; the oldest progress samples go first. */
const HISTORY_LIMIT = 2000;
/** One progress sample per step per this many ms is enough for the audit trail. */
const PROGRESS_SAMPLE_MS = 5000;

/**
 * The latest progress of each step that sampling left out. It goes into the history when
 * anything else happens to the step, so the samples end where the wait did (a drain's last
 * sample is its lag 0, not the lag 5 s before), which is what a report's chart draws.
 */
const unsampled = new WeakMap<RunState, Map<string, HistoryEntry>>();

/** Appends an event to the run's history (progress sampled), keeping it bounded; true when it kept a progress sample. */
function record(state: RunState, e: RunEvent, now: () => number): boolean {
  if (e.type === 'step.checked' || e.type === 'run.started') return false;
  const at = new Date(now()).toISOString();
  const { type, run: _run, ...rest } = e as RunEvent & { step?: string };
  const { step, ...detail } = rest as { step?: string } & Record<string, unknown>;
  if (e.type === 'step.progress' && e.progress.detail) {
    // The per-item detail (a drain's lag by partition: 10,000 entries, 90 KB, at 10,000 partitions)
    // stays in the event; a kept sample needs its message and metrics (what charts and the dashboard read).
    const { detail: _perItem, ...kept } = e.progress;
    detail.progress = kept;
  }
  const entry: HistoryEntry = { at, type, ...(step ? { step } : {}), ...(Object.keys(detail).length ? { detail } : {}) };
  let pending = unsampled.get(state);
  if (!pending) unsampled.set(state, (pending = new Map()));
  if (e.type === 'step.progress') {
    const last = state.history.findLast((h) => h.type === 'step.progress' && h.step === e.step);
    if (last && now() - Date.parse(last.at) < PROGRESS_SAMPLE_MS) {
      pending.set(e.step, entry);
      return false;
    }
    pending.delete(e.step);
  } else if (step && pending.has(step)) {
    push(state, pending.get(step) as HistoryEntry);
    pending.delete(step);
  }
  push(state, entry);
  return e.type === 'step.progress';
}

function push(state: RunState, entry: HistoryEntry): void {
  state.history.push(entry);
  if (state.history.length > HISTORY_LIMIT) {
    const i = state.history.findIndex((h) => h.type === 'step.progress');
    state.history.splice(i >= 0 ? i : 0, 1);
  }
}

/** Who is at the controls: user@host, as approvals, skips and rollbacks record it. */
export function whoAmI(): string {
  return `${os.userInfo().username}@${os.hostname()}`;
}

/** A run's events and its state as run and rollback keep them. */
export interface RunJournal {
  /** Hands the event on; it also goes into the history, saved with the next write. */
  emit: EventSink;
  save(): Promise<void>;
  /** Saves when the history gained a progress sample since the last save, so a long wait shows in the store while it lasts (the dashboard's charts); never throws. */
  saveSampled(): Promise<void>;
}

/** The journal of a run: every event also goes into the history, saved with the next write. */
export function runJournal(state: RunState, store: RunStore, emit: EventSink, now: () => number): RunJournal {
  let sampled = false;
  const save = async () => {
    sampled = false;
    state.updatedAt = new Date(now()).toISOString();
    await store.write(state);
  };
  return {
    emit: (e) => {
      if (record(state, e, now)) sampled = true;
      emit(e);
    },
    save,
    saveSampled: async () => {
      if (!sampled) return;
      // Best effort: a wait rides out a store that is briefly away (a broker restarting under the
      // Kafka store); the sample goes with the next write, and a lost lock fails that write.
      await save().catch(() => (sampled = true));
    },
  };
}

/** One point of a chart of a wait: when (ms since the epoch), and the value. */
export interface SeriesPoint {
  t: number;
  v: number;
}

/** Counts of events since the step began (kafka.verify's `events`, kafka.quiet's `newEvents`): their growth per second is an event rate. */
const EVENT_COUNTERS = ['events', 'newEvents'] as const;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * A step's consumer lag and event rate over its wait, from the progress samples its history keeps:
 * `lag` as reported (kafka.drain, kafka.verify); the rate as reported (`ratePerSec`, kafka.drain),
 * else the growth of the step's event count between two samples (a count that fell restarted: no
 * rate there). What `migrate report` and `migrate dashboard` chart.
 */
export function waitSeries(history: readonly HistoryEntry[], step: string): { lag: SeriesPoint[]; rate: SeriesPoint[] } {
  const samples: { t: number; metrics: Record<string, unknown> }[] = [];
  for (const h of history) {
    if (h.type !== 'step.progress' || h.step !== step) continue;
    const metrics = (h.detail?.progress as { metrics?: unknown } | undefined)?.metrics;
    const t = Date.parse(h.at);
    if (metrics && typeof metrics === 'object' && Number.isFinite(t)) samples.push({ t, metrics: metrics as Record<string, unknown> });
  }
  const lag = samples.flatMap((x) => (finite(x.metrics.lag) ? [{ t: x.t, v: x.metrics.lag }] : []));
  const reported = samples.flatMap((x) => (finite(x.metrics.ratePerSec) ? [{ t: x.t, v: x.metrics.ratePerSec }] : []));
  if (reported.length) return { lag, rate: reported };
  const counter = EVENT_COUNTERS.find((k) => samples.some((x) => finite(x.metrics[k])));
  const rate: SeriesPoint[] = [];
  let previous: SeriesPoint | undefined;
  for (const x of counter ? samples : []) {
    const v = x.metrics[counter as string];
    if (!finite(v)) continue;
    if (previous && x.t > previous.t && v >= previous.v) rate.push({ t: x.t, v: Math.round(((v - previous.v) / ((x.t - previous.t) / 1000)) * 10) / 10 });
    previous = { t: x.t, v };
  }
  return { lag, rate };
}
