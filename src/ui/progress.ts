import { formatDuration } from '../util/time.js';
import { paint, type Painter } from './paint.js';

/** A bar `width` cells wide, filled to `fraction` (clamped to 0..1). */
export function progressBar(fraction: number, width: number): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const full = Math.round(f * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

/** "1,234" */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** "45.2/s", "1,200/s" */
export function formatRate(perSec: number): string {
  return `${perSec >= 100 ? formatCount(perSec) : String(Math.round(perSec * 10) / 10)}/s`;
}

/** "ETA 14s"; "ETA —" when nothing moves. */
export function formatEta(etaMs: number | undefined): string {
  return `ETA ${etaMs === undefined || !Number.isFinite(etaMs) ? '—' : formatDuration(etaMs)}`;
}

/** What the live view knows about a step it is waiting for. */
export interface WaitInfo {
  /** When this execution of the step began (ms since the epoch). */
  startedAt: number;
  /** The step's timeout, when known. */
  timeoutMs?: number;
  /** The latest metrics the step reported (lag, ratePerSec, etaMs, events, quietMs, ...). */
  metrics?: Record<string, number>;
  /** The largest lag seen since the step began: what a drain has to consume. */
  initialLag?: number;
}

/** A drain reports lag without counting events: its bar shows how much of the initial lag is consumed. */
export function isDrain(metrics: Record<string, number> | undefined): boolean {
  return metrics !== undefined && metrics.lag !== undefined && metrics.events === undefined;
}

/**
 * One line under a step being waited for: for a drain, the share of the initial lag consumed, with
 * lag, rate and ETA; otherwise the time spent against the step's timeout, with the step's numbers.
 */
export function waitLine(w: WaitInfo, now: number, barWidth = 20, c: Painter = paint(false)): string {
  const m = w.metrics ?? {};
  const sep = c.dim(' · ');
  if (isDrain(w.metrics)) {
    const lag = m.lag as number;
    const initial = Math.max(w.initialLag ?? lag, lag);
    const fraction = initial > 0 ? (initial - lag) / initial : 1;
    const pct = `${String(Math.floor(fraction * 100)).padStart(3)}%`;
    const parts = [`lag ${formatCount(lag)} of ${formatCount(initial)}`];
    if (m.ratePerSec !== undefined) parts.push(formatRate(m.ratePerSec));
    if (m.openTransactions) parts.push(openTransactionsText(m.openTransactions));
    else parts.push(lag === 0 ? 'caught up' : formatEta(m.etaMs));
    return `${c.cyan(progressBar(fraction, barWidth))} ${pct}  ${parts.join(sep)}`;
  }
  const elapsed = Math.max(0, now - w.startedAt);
  const numbers = describeMetrics(m);
  if (w.timeoutMs && w.timeoutMs > 0) {
    const bar = progressBar(elapsed / w.timeoutMs, barWidth);
    const time = `${formatDuration(elapsed)} of ${formatDuration(w.timeoutMs)}`;
    return [`${elapsed / w.timeoutMs > 0.8 ? c.yellow(bar) : c.cyan(bar)} ${time}`, ...numbers].join(sep);
  }
  return [`waiting ${formatDuration(elapsed)}`, ...numbers].join(sep);
}

/** The numbers steps report, in words: "42 events", "lag 3", "quiet 4s", "2 ok in a row". */
export function describeMetrics(m: Record<string, number>): string[] {
  const out: string[] = [];
  if (m.events !== undefined) out.push(`${formatCount(m.events)} events`);
  if (m.newEvents !== undefined) out.push(`${formatCount(m.newEvents)} new events`);
  if (m.openTransactions) out.push(openTransactionsText(m.openTransactions));
  else if (m.quietMs !== undefined) out.push(`quiet ${formatDuration(m.quietMs)}`);
  if (m.lag !== undefined) out.push(`lag ${formatCount(m.lag)}`);
  if (m.ratePerSec !== undefined) out.push(formatRate(m.ratePerSec));
  if (m.successes !== undefined) out.push(`${m.successes} ok in a row`);
  if (m.status !== undefined) out.push(`HTTP ${m.status}`);
  if (m.latencyMs !== undefined) out.push(formatDuration(m.latencyMs));
  return out;
}

/** "transaction open on 2 partitions": why a drain at lag 0, or a silent producer, still waits. */
function openTransactionsText(partitions: number): string {
  return `transaction open on ${partitions} ${partitions === 1 ? 'partition' : 'partitions'}`;
}
