import { z } from 'zod';
import { isOn, type FlagState } from '../adapters/flags.js';
import { defineStep } from './contract.js';

const params = z
  .object({
    key: z.string().min(1),
    // YAML 1.1 habits write `expect: off` unquoted, which some parsers read as a boolean.
    expect: z.preprocess((v) => (v === true ? 'on' : v === false ? 'off' : v), z.enum(['on', 'off', 'exists'])).default('exists'),
  })
  .strict();

/**
 * flag.check: the flag exists and (with expect on/off) serves that state. A wait step: it never
 * writes a flag. A flag that does not exist never passes, not even `expect: off`, because a
 * missing flag in a migration is far more often a typo than a decision.
 */
export const flagCheckStep = defineStep({
  type: 'flag.check',
  needs: ['flags'],
  params,
  timeoutMs: 10_000,
  intervalMs: 500,
  describe: (p) => (p.expect === 'exists' ? `flag ${p.key} exists` : `flag ${p.key} is ${p.expect}`),

  async check(p, ctx) {
    const provider = await ctx.flags();
    const flag = await provider.get(p.key);
    if (!flag) return { done: false, summary: `flag ${p.key} does not exist in ${provider.description}` };
    const on = isOn(flag);
    if (p.expect === 'exists' || (p.expect === 'on') === on) {
      return { done: true, summary: `flag ${p.key} is ${flagStateText(flag)} in ${provider.description}`, outputs: { key: p.key, on } };
    }
    return { done: false, summary: `flag ${p.key} is ${flagStateText(flag)} in ${provider.description}, expected ${p.expect}` };
  },
});

/** "on", "off", "off (disabled)", "off (serves \"blue\")": what applications get from the flag. */
export function flagStateText(flag: FlagState): string {
  if (isOn(flag)) return 'on';
  if (!flag.enabled) return 'off (disabled)';
  if (flag.value === false) return 'off';
  return `off (serves ${flag.value === undefined ? 'no value' : JSON.stringify(flag.value)})`;
}
