/**
 * The charts of `migrate report`: consumer lag and event rate over time, for each step that
 * reported them while it waited, from the progress samples a run's history keeps (one per step
 * every 5 s, src/engine/history.ts). Metrics are read by name, as the steps report them:
 * `lag` (kafka.drain, kafka.verify), `ratePerSec` (kafka.drain), and counts of events since the
 * step began, `events` (kafka.verify) and `newEvents` (kafka.quiet), whose growth between two
 * samples is a rate too.
 */
import type { RunState } from '../state/run-state.js';
import { renderLineChart } from './svg-chart.js';

/** One chart of the report. */
export interface ReportChart {
  /** Unique within the report, safe in a file name: "drained-lag". */
  id: string;
  title: string;
  /** The chart as an SVG document. */
  svg: string;
}

/** Counts of events since the step began: their growth per second is an event rate. */
const EVENT_COUNTERS = ['events', 'newEvents'] as const;

interface Sample {
  t: number;
  metrics: Record<string, unknown>;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Every chart the run's history can draw, steps in playbook order, lag before rate. */
export function reportCharts(s: RunState): ReportChart[] {
  const samples = new Map<string, Sample[]>();
  for (const h of s.history) {
    if (h.type !== 'step.progress' || !h.step) continue;
    const progress = h.detail?.progress as { metrics?: unknown } | undefined;
    const metrics = progress?.metrics;
    const t = Date.parse(h.at);
    if (!metrics || typeof metrics !== 'object' || !Number.isFinite(t)) continue;
    samples.set(h.step, [...(samples.get(h.step) ?? []), { t, metrics: metrics as Record<string, unknown> }]);
  }
  const charts: ReportChart[] = [];
  const order = [...s.steps.map((st) => st.id), ...samples.keys()];
  for (const step of [...new Set(order)]) {
    const list = samples.get(step);
    if (!list) continue;
    const lag = list.flatMap((x) => (finite(x.metrics.lag) ? [{ t: x.t, v: x.metrics.lag }] : []));
    if (lag.length) charts.push(chart(step, 'lag', `Consumer lag: ${step}`, 'messages behind', lag));
    const rate = eventRate(list);
    if (rate.length) charts.push(chart(step, 'rate', `Event rate: ${step}`, 'events/s', rate));
  }
  return charts;
}

/** The reported rate where the step gives one, else the growth of its event count between samples (a count that fell restarted: no rate there). */
function eventRate(list: Sample[]): { t: number; v: number }[] {
  const reported = list.flatMap((x) => (finite(x.metrics.ratePerSec) ? [{ t: x.t, v: x.metrics.ratePerSec }] : []));
  if (reported.length) return reported;
  const counter = EVENT_COUNTERS.find((k) => list.some((x) => finite(x.metrics[k])));
  if (!counter) return [];
  const points: { t: number; v: number }[] = [];
  let previous: { t: number; v: number } | undefined;
  for (const x of list) {
    const v = x.metrics[counter];
    if (!finite(v)) continue;
    if (previous && x.t > previous.t && v >= previous.v) points.push({ t: x.t, v: Math.round(((v - previous.v) / ((x.t - previous.t) / 1000)) * 10) / 10 });
    previous = { t: x.t, v };
  }
  return points;
}

function chart(step: string, what: string, title: string, yLabel: string, points: { t: number; v: number }[]): ReportChart {
  return { id: `${step.replace(/[^A-Za-z0-9._-]/g, '_')}-${what}`, title, svg: renderLineChart({ title, yLabel, series: [{ name: step, points }] }) };
}
