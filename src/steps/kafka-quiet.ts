import { z } from 'zod';
import { openTransactions } from '../adapters/kafka.js';
import { durationSchema } from '../util/duration-schema.js';
import { formatDuration } from '../util/time.js';
import { defineStep } from './contract.js';
import { describeOpenTransactions } from './kafka-drain.js';

const params = z
  .object({
    topic: z.string().min(1),
    /** How long log-end offsets must stay unchanged. */
    quietFor: durationSchema.default(30_000),
  })
  .strict();

interface QuietMemory {
  ends?: Record<number, number>;
  lastChangeAt?: number;
  /** Events seen since the step began, for the message when the producer keeps producing. */
  seen?: number;
  movingPartitions?: number[];
}

/**
 * kafka.quiet: no new events on the topic for a quiet period — the producer is really off. Log ends
 * are high watermarks, so records written inside a transaction count as they are written; and a
 * transaction still open means the producer is not done (its commit or abort is still to come), so
 * the quiet period starts only once no transaction is open.
 */
export const kafkaQuietStep = defineStep({
  type: 'kafka.quiet',
  needs: ['kafka'],
  params,
  timeoutMs: 10 * 60_000,
  intervalMs: 1000,
  plan: { judgedOverTime: { look: true, why: 'the quiet period is measured while a run waits on the step' } },
  describe: (p) => `no new events on ${p.topic} for ${formatDuration(p.quietFor)}`,

  async check(p, ctx) {
    const kafka = await ctx.kafka();
    const offsets = await kafka.topicOffsets(p.topic);
    if (offsets.length === 0) return { done: false, summary: `topic ${p.topic} has no partitions (does it exist?)` };
    const mem = ctx.memory as QuietMemory;
    const now = ctx.now();
    const ends = Object.fromEntries(offsets.map((o) => [o.partition, o.logEnd]));
    if (!mem.ends) {
      mem.ends = ends;
      mem.lastChangeAt = now;
      mem.seen = 0;
    } else {
      const moving = offsets.filter((o) => o.logEnd !== mem.ends?.[o.partition]);
      if (moving.length) {
        mem.seen = (mem.seen ?? 0) + moving.reduce((sum, o) => sum + Math.max(0, o.logEnd - (mem.ends?.[o.partition] ?? 0)), 0);
        mem.movingPartitions = moving.map((o) => o.partition);
        mem.lastChangeAt = now;
        mem.ends = ends;
      }
    }
    const open = openTransactions(offsets);
    if (open.length) {
      mem.lastChangeAt = now;
      const summary = `not quiet: on ${p.topic}, ${describeOpenTransactions(open)}; the producer is not done until it commits or aborts it`;
      const metrics: Record<string, number> = { quietMs: 0, newEvents: mem.seen ?? 0, openTransactions: open.length };
      return { done: false, summary, progress: { message: summary, metrics } };
    }
    const quietMs = now - (mem.lastChangeAt ?? now);
    if (quietMs >= p.quietFor) {
      return { done: true, summary: `no new events on ${p.topic} for ${formatDuration(quietMs)}`, outputs: { logEnd: ends } };
    }
    // "Still producing" only while events keep arriving; after that it is a quiet period in progress.
    const producing = mem.seen && quietMs < 2000;
    const summary = producing
      ? `the producer is still producing: ${mem.seen} new events on ${p.topic} since this step began, on partitions ${mem.movingPartitions?.join(', ')}`
      : `quiet for ${formatDuration(quietMs)} of ${formatDuration(p.quietFor)}` + (mem.seen ? ` (${mem.seen} events arrived after the step began)` : '');
    return { done: false, summary, progress: { message: summary, metrics: { quietMs, newEvents: mem.seen ?? 0 } } };
  },
});
