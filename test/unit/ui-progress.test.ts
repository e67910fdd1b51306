import { describe, expect, it } from 'vitest';
import { describeMetrics, formatCount, formatEta, formatRate, isDrain, progressBar, waitLine } from '../../src/ui/progress.js';

describe('progress bars and ETA', () => {
  it('fills a bar to the fraction, clamped to 0..1', () => {
    expect(progressBar(0, 10)).toBe('░░░░░░░░░░');
    expect(progressBar(0.5, 10)).toBe('█████░░░░░');
    expect(progressBar(0.04, 10)).toBe('░░░░░░░░░░');
    expect(progressBar(1.7, 4)).toBe('████');
    expect(progressBar(-1, 4)).toBe('░░░░');
    expect(progressBar(Number.NaN, 4)).toBe('░░░░');
  });

  it('formats counts, rates and ETAs', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatRate(45.24)).toBe('45.2/s');
    expect(formatRate(1234.4)).toBe('1,234/s');
    expect(formatEta(14_200)).toBe('ETA 14s');
    expect(formatEta(65_000)).toBe('ETA 1m05s');
    expect(formatEta(undefined)).toBe('ETA —');
  });

  it('shows a drain as the share of its initial lag consumed, with lag, rate and ETA', () => {
    const metrics = { lag: 380, partitions: 3, lagging: 2, ratePerSec: 45.2, etaMs: 8400 };
    expect(isDrain(metrics)).toBe(true);
    expect(waitLine({ startedAt: 0, timeoutMs: 60_000, metrics, initialLag: 1000 }, 5000, 20)).toBe(
      '████████████░░░░░░░░  62%  lag 380 of 1,000 · 45.2/s · ETA 8s',
    );
    // Before anything moved: no rate, no ETA yet; the first lag seen is the whole job.
    expect(waitLine({ startedAt: 0, metrics: { lag: 3000, partitions: 3, lagging: 3 } }, 1000, 10)).toBe('░░░░░░░░░░   0%  lag 3,000 of 3,000 · ETA —');
    expect(waitLine({ startedAt: 0, metrics: { lag: 0, partitions: 3, lagging: 0, ratePerSec: 10 }, initialLag: 50 }, 1000, 10)).toBe(
      '██████████ 100%  lag 0 of 50 · 10/s · caught up',
    );
    // An open transaction: its records are lag, and the drain is not over even at lag 0.
    expect(waitLine({ startedAt: 0, metrics: { lag: 5, partitions: 2, lagging: 1, openTransactions: 1 }, initialLag: 5 }, 1000, 10)).toBe(
      '░░░░░░░░░░   0%  lag 5 of 5 · transaction open on 1 partition',
    );
  });

  it('shows other waits as the time spent against the timeout, with the numbers the step reported', () => {
    expect(isDrain({ events: 12, lag: 3 })).toBe(false);
    expect(waitLine({ startedAt: 1000, timeoutMs: 600_000, metrics: { events: 12, lag: 3 } }, 66_000, 20)).toBe(
      '██░░░░░░░░░░░░░░░░░░ 1m05s of 10m00s · 12 events · lag 3',
    );
    expect(waitLine({ startedAt: 0, timeoutMs: 10_000, metrics: { quietMs: 4000, newEvents: 0 } }, 5000, 10)).toBe('█████░░░░░ 5s of 10s · 0 new events · quiet 4s');
    // No timeout known: just how long it has been.
    expect(waitLine({ startedAt: 0, metrics: { successes: 2, status: 200, latencyMs: 12 } }, 3000)).toBe('waiting 3s · 2 ok in a row · HTTP 200 · 12ms');
  });

  it('puts the numbers steps report into words', () => {
    expect(describeMetrics({ events: 1200, lag: 0 })).toEqual(['1,200 events', 'lag 0']);
    expect(describeMetrics({})).toEqual([]);
    expect(describeMetrics({ quietMs: 0, newEvents: 3, openTransactions: 2 })).toEqual(['3 new events', 'transaction open on 2 partitions']);
  });
});
