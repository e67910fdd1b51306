/**
 * The charts of `migrate report`: consumer lag and event rate over time, for each step that
 * reported them while it waited, from the progress samples a run's history keeps (one per step
 * every 5 s, src/engine/history.ts). Metrics are read by name, as the steps report them:
 * `lag` (kafka.drain, kafka.verify), `ratePerSec` (kafka.drain), and counts of events since the
 * step began, `events` (kafka.verify) and `newEvents` (kafka.quiet), whose growth between two
 * samples is a rate too.
 */
import { waitSeries, type SeriesPoint } from '../engine/history.js';
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

/** Every chart the run's history can draw, steps in playbook order, lag before rate. */
export function reportCharts(s: RunState): ReportChart[] {
  const sampled = s.history.flatMap((h) => (h.type === 'step.progress' && h.step ? [h.step] : []));
  const charts: ReportChart[] = [];
  for (const step of new Set([...s.steps.map((st) => st.id), ...sampled])) {
    if (!sampled.includes(step)) continue;
    const { lag, rate } = waitSeries(s.history, step);
    if (lag.length) charts.push(chart(step, 'lag', `Consumer lag: ${step}`, 'messages behind', lag));
    if (rate.length) charts.push(chart(step, 'rate', `Event rate: ${step}`, 'events/s', rate));
  }
  return charts;
}

function chart(step: string, what: string, title: string, yLabel: string, points: SeriesPoint[]): ReportChart {
  return { id: `${step.replace(/[^A-Za-z0-9._-]/g, '_')}-${what}`, title, svg: renderLineChart({ title, yLabel, series: [{ name: step, points }] }) };
}
