import { z } from 'zod';
import { durationSchema } from '../util/duration-schema.js';
import { formatDuration } from '../util/time.js';
import { defineStep } from './contract.js';

const params = z
  .object({
    /** How long to wait. */
    for: durationSchema,
    /** Why, shown while it waits ("SDKs poll flags every 15s"). */
    reason: z.string().min(1).optional(),
  })
  .strict();

interface PauseMemory {
  since?: number;
}

/**
 * pause: waits a fixed time, for what no check can see (caches expiring, SDKs polling a flag,
 * a deploy settling). The time counts from the step's first look in this execution: a resumed
 * run waits the whole pause again, which is the safe side of a wait.
 */
export const pauseStep = defineStep({
  type: 'pause',
  params,
  timeoutMs: 24 * 3_600_000,
  intervalMs: 1000,
  plan: { judgedOverTime: { look: true, why: 'a pause is counted while a run waits on it' } },
  describe: (p) => `wait ${formatDuration(p.for)}${p.reason ? `: ${p.reason}` : ''}`,

  async check(p, ctx) {
    const mem = ctx.memory as PauseMemory;
    const now = ctx.now();
    mem.since ??= now;
    const waited = now - mem.since;
    if (waited >= p.for) return { done: true, summary: `waited ${formatDuration(p.for)}${p.reason ? `: ${p.reason}` : ''}` };
    return {
      done: false,
      summary: `waited ${formatDuration(waited)} of ${formatDuration(p.for)}`,
      progress: { message: `waited ${formatDuration(waited)} of ${formatDuration(p.for)}`, metrics: { waitedMs: waited, etaMs: p.for - waited } },
    };
  },
});
