import { z } from 'zod';
import { consumerLag, openTransactions, type PartitionLag, type PartitionOffsets } from '../adapters/kafka.js';
import { formatDuration } from '../util/time.js';
import { defineStep } from './contract.js';

const params = z
  .object({
    topic: z.string().min(1),
    group: z.string().min(1),
    /** Zero-lag samples in a row needed before the topic counts as drained. */
    samples: z.coerce.number().int().min(1).max(100).default(3),
  })
  .strict();

interface DrainMemory {
  zeroSamples: number;
  first?: { at: number; lag: number };
  last?: { at: number; lag: number };
}

/**
 * kafka.drain: the group's lag is 0 on every partition of the topic for several samples in a
 * row, no transaction is open on it, and the group exists (it has committed on the topic, or has
 * members). Lag is computed here from log-end and committed offsets,
 * never taken from the consumer, so a consumer that stopped cannot leave a stale "0" behind. The
 * log end is the high watermark, as Kafka's consumer-groups tool reads it: records of a transaction
 * still open are lag (a read_committed consumer cannot have read them), and an open transaction
 * means the producer is still writing, whatever the lag.
 */
export const kafkaDrainStep = defineStep({
  type: 'kafka.drain',
  needs: ['kafka'],
  params,
  timeoutMs: 30 * 60_000,
  intervalMs: 1000,
  plan: { judgedOverTime: { look: true, why: 'lag 0 must hold for several samples in a row, taken while a run waits' } },
  describe: (p) => `group ${p.group} has consumed everything on ${p.topic}`,

  async check(p, ctx) {
    const kafka = await ctx.kafka();
    const offsets = await kafka.groupOffsets(p.group, p.topic);
    const lags = consumerLag(offsets);
    if (lags.length === 0) return { done: false, summary: `topic ${p.topic} has no partitions (does it exist?)` };
    const total = lags.reduce((sum, l) => sum + l.lag, 0);
    const mem = ctx.memory as unknown as DrainMemory;
    // A group that has never committed here and has no members has consumed nothing: most likely
    // a misspelled name. An empty topic is not "drained" by it; wait for a consumer (the timeout
    // ends the wait), saying why.
    if (lags.every((l) => l.committed === null) && (await kafka.describeGroup(p.group)).members.length === 0) {
      mem.zeroSamples = 0;
      const absent = `group ${p.group} has no members and has never committed an offset on ${p.topic}: is the group name right?`;
      const summary = total === 0 ? absent : `lag ${total}: ${describeLagging(lags)}; ${absent}`;
      return { done: false, summary, progress: { message: summary, metrics: { lag: total, partitions: lags.length, lagging: lags.filter((l) => l.lag > 0).length } } };
    }
    const open = openTransactions(offsets);
    const now = ctx.now();
    mem.zeroSamples = total === 0 && open.length === 0 ? (mem.zeroSamples ?? 0) + 1 : 0;
    mem.first ??= { at: now, lag: total };
    const prev = mem.last;
    mem.last = { at: now, lag: total };
    if (total === 0 && open.length === 0 && mem.zeroSamples >= p.samples) {
      return {
        done: true,
        summary: `group ${p.group} drained ${p.topic}: lag 0 on ${lags.length} partitions, ${p.samples} samples in a row`,
        outputs: { partitions: lags.length },
      };
    }
    const rate = drainRate(mem.first, prev, mem.last);
    const metrics: Record<string, number> = { lag: total, partitions: lags.length, lagging: lags.filter((l) => l.lag > 0).length };
    if (open.length) metrics.openTransactions = open.length;
    if (rate !== undefined) metrics.ratePerSec = Math.round(rate * 10) / 10;
    if (rate && rate > 0 && total > 0) metrics.etaMs = Math.round((total / rate) * 1000);
    const lagSummary =
      total === 0
        ? open.length
          ? 'lag 0'
          : `lag 0 (${mem.zeroSamples}/${p.samples} samples)`
        : `lag ${total}: ${describeLagging(lags)}` + (metrics.etaMs !== undefined ? `, ETA ${formatDuration(metrics.etaMs)}` : '');
    const summary = open.length ? `${lagSummary}; ${describeOpenTransactions(open)}: not drained until the producer commits or aborts it` : lagSummary;
    const detail = Object.fromEntries(lags.map((l) => [String(l.partition), l.lag]));
    return { done: false, summary, progress: { message: summary, metrics, detail } };
  },
});

/** Records consumed per second, from the fall of lag since the first sample (falls back to the last interval). */
function drainRate(first: DrainMemory['first'], prev: DrainMemory['last'], last: DrainMemory['last']): number | undefined {
  if (!first || !last || last.at <= first.at) return undefined;
  const overall = (first.lag - last.lag) / ((last.at - first.at) / 1000);
  if (overall > 0) return overall;
  if (prev && last.at > prev.at) return Math.max(0, (prev.lag - last.lag) / ((last.at - prev.at) / 1000));
  return 0;
}

/**
 * "a transaction is open on partitions 0, 2 (4 records past the last stable offset, which
 * read_committed consumers cannot read yet)" (at most 10 partitions named).
 */
export function describeOpenTransactions(open: readonly PartitionOffsets[]): string {
  const pending = open.reduce((sum, o) => sum + (o.logEnd - (o.lastStable ?? o.logEnd)), 0);
  const names = open.slice(0, 10).map((o) => o.partition);
  const more = open.length > names.length ? ` and ${open.length - names.length} more` : '';
  return (
    `a transaction is open on ${open.length === 1 ? 'partition' : 'partitions'} ${names.join(', ')}${more} ` +
    `(${pending} ${pending === 1 ? 'record' : 'records'} past the last stable offset, which read_committed consumers cannot read yet)`
  );
}

/** "partition 0 lag 120, partition 2 lag 7" (the worst first, at most 10). */
export function describeLagging(lags: readonly PartitionLag[]): string {
  const lagging = lags.filter((l) => l.lag > 0).sort((a, b) => b.lag - a.lag);
  const shown = lagging.slice(0, 10).map((l) => `partition ${l.partition} lag ${l.lag}${l.committed === null ? ' (nothing committed)' : ''}`);
  if (lagging.length > shown.length) shown.push(`and ${lagging.length - shown.length} more`);
  return shown.join(', ');
}
