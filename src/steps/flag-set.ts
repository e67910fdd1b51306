import { z } from 'zod';
import { isOn } from '../adapters/flags.js';
import { flagStateText } from './flag-check.js';
import { defineStep } from './contract.js';

/** true/false, or the strings templates produce: "true", "false", "on", "off". */
const onOff = z.union([
  z.boolean(),
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['true', 'false', 'on', 'off'], { error: 'expected true, false, on or off' }))
    .transform((v) => v === 'true' || v === 'on'),
]);

const params = z
  .object({
    key: z.string().min(1),
    on: onOff,
  })
  .strict();

/** What flag.set records about the flag before it switched it, so rollback can put it back. */
const previousFlag = z.object({ enabled: z.boolean(), value: z.unknown() });
type PreviousFlag = z.infer<typeof previousFlag>;

/** What the step records: the flag and its declared state; after a switch, the flag before it (null: it did not exist). */
const flagSwitch = z.object({ key: z.string(), on: z.boolean(), previous: previousFlag.nullable().optional(), changed: z.boolean().optional() });

/** What an evaluation endpoint serves counts as on exactly when the provider's flag would: the value true. */
function isServedOn(served: { value: unknown } | undefined): boolean {
  return served?.value === true;
}

function servedText(served: { value: unknown } | undefined): string {
  if (!served) return 'it does not know the flag';
  if (served.value === undefined) return 'it serves no value';
  return `it serves ${JSON.stringify(served.value)}`;
}

/**
 * flag.set: the flag serves `on` (true) or off. The switch of a migration. check only reads, so a
 * run resumed after the switch finds it done and never writes the flag file again. With an
 * evaluation endpoint configured (flags.propagation), the step is done only once that endpoint
 * serves the declared value, so "switched" means applications see it.
 */
export const flagSetStep = defineStep({
  type: 'flag.set',
  needs: ['flags'],
  params,
  timeoutMs: 30_000,
  intervalMs: 250,
  outputs: { kind: 'flag switch', schema: flagSwitch },
  describe: (p) => `switch flag ${p.key} ${p.on ? 'on' : 'off'}`,

  async check(p, ctx) {
    const provider = await ctx.flags();
    const flag = await provider.get(p.key);
    const state = flag ? `is ${flagStateText(flag)}` : 'does not exist';
    const evaluator = await ctx.flagEvaluator();
    if (isOn(flag) !== p.on) {
      const then = evaluator ? `, then waiting until ${evaluator.description} serves it` : '';
      // Saved by the engine before apply: rollback can restore it even if the run dies right after the switch.
      const previous: PreviousFlag | null = flag ? { enabled: flag.enabled, value: flag.value } : null;
      return { done: false, summary: `flag ${p.key} ${state} in ${provider.description}, switching it ${p.on ? 'on' : 'off'}${then}`, before: { previous } };
    }
    const done = { done: true as const, summary: `flag ${p.key} ${state} in ${provider.description}`, outputs: { key: p.key, on: p.on } };
    if (!evaluator) return done;
    // The provider says the declared state; "switched" means applications are served it. Until
    // the evaluation endpoint serves it, wait: never apply again, so `previous` is recorded once.
    const served = await evaluator.evaluate(p.key);
    if (isServedOn(served) === p.on) return { ...done, summary: `${done.summary}; ${evaluator.description} serves it` };
    return {
      done: false,
      wait: true,
      applied: true,
      summary: `flag ${p.key} ${state} in ${provider.description}; waiting until ${evaluator.description} serves it (${servedText(served)})`,
    };
  },

  async apply(p, ctx) {
    const provider = await ctx.flags();
    const { previous, changed } = await provider.set(p.key, p.on);
    const recorded: PreviousFlag | null = previous ? { enabled: previous.enabled, value: previous.value } : null;
    return { key: p.key, on: p.on, previous: recorded, changed };
  },

  async undo(p, ctx, outputs) {
    // No `previous` recorded: the step found the flag as declared and changed nothing.
    if (!Object.hasOwn(outputs, 'previous') || outputs.previous === undefined) return;
    const provider = await ctx.flags();
    const previous = outputs.previous as PreviousFlag | null;
    if (previous === null) {
      // The flag did not exist before this step created it. The provider interface cannot delete a
      // flag, so it is switched off: what applications were served while it was missing.
      await provider.set(p.key, false);
      return;
    }
    // A flag that was disabled comes back enabled and off: the closest state set() can express.
    await provider.set(p.key, isOn({ key: p.key, ...previous }));
  },
});
