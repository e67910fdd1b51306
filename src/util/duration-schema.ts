// The zod schema of a duration, apart from src/util/time.ts so that what only parses or prints a
// duration (status, the config) does not load zod.
import { z } from 'zod';
import { parseDuration } from './time.js';

/** A duration in params and playbooks: "500ms", "30s", "10m", "1h", "1m30s" or a number of milliseconds; parsed to milliseconds. */
export const durationSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration (examples: 500ms, 30s, 10m, 1h)` });
    return z.NEVER;
  }
  return ms;
});
