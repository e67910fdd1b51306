import { z } from 'zod';
import { defineStep } from './contract.js';

const params = z
  .object({
    message: z.string().default('Continue?'),
  })
  .strict();

/** confirm: a person's go-ahead. The engine asks on a terminal, or pauses the run until --approve. */
export const confirmStep = defineStep({
  type: 'confirm',
  params,
  gate: true,
  timeoutMs: 0,
  intervalMs: 0,
  describe: (p) => `gate: ${p.message}`,
  // A gate is decided by the engine from approvals; there is nothing in the world to look at.
  async check() {
    return { done: false, summary: 'waiting for approval' };
  },
});
