import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileFlagProvider } from '../../src/adapters/flags-file.js';
import type { FlagEvaluator, FlagProvider } from '../../src/adapters/flags.js';
import { planSteps } from '../../src/engine/plan.js';
import { InvalidInputError } from '../../src/errors.js';
import type { StepContext } from '../../src/steps/contract.js';
import { boundPlaybook } from '../support/bound-playbook.js';
import { stepContext } from '../support/step-context.js';
import { flagCheckStep } from '../../src/steps/flag-check.js';
import { flagSetStep } from '../../src/steps/flag-set.js';

const flagd = (flags: Record<string, unknown>) => JSON.stringify({ $schema: 'https://flagd.dev/schema/v0/flags.json', flags }, null, 2);
const boolFlag = (variant: 'on' | 'off', state = 'ENABLED') => ({ state, variants: { on: true, off: false }, defaultVariant: variant });

/** A temp flagd flag file and a step context whose flags() is the real file provider on it. */
async function flagFile(text: string): Promise<{ file: string; provider: FlagProvider; ctx: StepContext }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'migrate-flags-'));
  const file = path.join(dir, 'flags.json');
  await writeFile(file, text);
  const provider = new FileFlagProvider(file);
  const ctx: StepContext = stepContext({ cwd: dir, flags: async () => provider });
  return { file, provider, ctx };
}

const readFlags = async (file: string) => (JSON.parse(await readFile(file, 'utf8')) as { flags: Record<string, { state: string; defaultVariant: string }> }).flags;

describe('flag.check', () => {
  it('is done when the flag matches, and says what it expected and what the file has when not', async () => {
    const { file, ctx } = await flagFile(flagd({ 'orders-async': boolFlag('on'), dark: boolFlag('on', 'DISABLED') }));
    const check = (p: unknown) => flagCheckStep.check(flagCheckStep.params.parse(p), ctx);

    expect(await check({ key: 'orders-async' })).toMatchObject({ done: true, outputs: { key: 'orders-async', on: true } });
    expect(await check({ key: 'orders-async', expect: 'on' })).toMatchObject({ done: true, outputs: { key: 'orders-async', on: true } });
    expect(await check({ key: 'orders-async', expect: 'off' })).toEqual({
      done: false,
      summary: `flag orders-async is on in flag file ${file}, expected off`,
    });
    expect(await check({ key: 'dark', expect: 'off' })).toMatchObject({ done: true, outputs: { key: 'dark', on: false } });
    expect(await check({ key: 'dark', expect: 'on' })).toMatchObject({ done: false, summary: `flag dark is off (disabled) in flag file ${file}, expected on` });
    expect(await check({ key: 'missing', expect: 'off' })).toEqual({ done: false, summary: `flag missing does not exist in flag file ${file}` });
  });

  it('validates its params strictly', () => {
    expect(flagCheckStep.params.parse({ key: 'k' })).toEqual({ key: 'k', expect: 'exists' });
    expect(flagCheckStep.params.parse({ key: 'k', expect: false })).toEqual({ key: 'k', expect: 'off' });
    expect(flagCheckStep.params.safeParse({ key: 'k', expect: 'maybe' }).success).toBe(false);
    expect(flagCheckStep.params.safeParse({ key: 'k', extra: 1 }).success).toBe(false);
    expect(flagCheckStep.apply).toBeUndefined();
  });
});

describe('flag.set', () => {
  it('switches a flag on, recording what it served before; a second run finds it done without writing', async () => {
    const { file, ctx } = await flagFile(flagd({ k: boolFlag('off') }));
    const p = flagSetStep.params.parse({ key: 'k', on: 'true' });
    expect(p).toEqual({ key: 'k', on: true });

    expect(await flagSetStep.check(p, ctx)).toMatchObject({ done: false, summary: expect.stringContaining('flag k is off') });
    const outputs = await flagSetStep.apply!(p, ctx);
    expect(outputs).toEqual({ key: 'k', on: true, previous: { enabled: true, value: false }, changed: true });
    expect((await readFlags(file)).k).toMatchObject({ state: 'ENABLED', defaultVariant: 'on' });

    const before = await stat(file);
    const again = await flagSetStep.check(p, ctx);
    expect(again).toMatchObject({ done: true, outputs: { key: 'k', on: true } });
    const after = await stat(file);
    expect({ ino: after.ino, mtimeMs: after.mtimeMs }).toEqual({ ino: before.ino, mtimeMs: before.mtimeMs });
  });

  it('undo restores the recorded previous state', async () => {
    const { file, ctx } = await flagFile(flagd({ k: boolFlag('off') }));
    const p = flagSetStep.params.parse({ key: 'k', on: 'on' });
    const outputs = (await flagSetStep.apply!(p, ctx)) as Record<string, unknown>;
    expect((await readFlags(file)).k?.defaultVariant).toBe('on');

    await flagSetStep.undo!(p, ctx, outputs);
    expect((await readFlags(file)).k).toMatchObject({ state: 'ENABLED', defaultVariant: 'off' });
    // Undoing again changes nothing and writes nothing.
    const before = await stat(file);
    await flagSetStep.undo!(p, ctx, outputs);
    expect((await stat(file)).ino).toBe(before.ino);
  });

  it('undo of a flag the step created switches it off; undo of a step that found the flag as declared does nothing', async () => {
    const { file, ctx } = await flagFile(flagd({ other: boolFlag('on') }));
    const p = flagSetStep.params.parse({ key: 'new-flag', on: true });
    const outputs = (await flagSetStep.apply!(p, ctx)) as Record<string, unknown>;
    expect(outputs).toMatchObject({ previous: null, changed: true });
    await flagSetStep.undo!(p, ctx, outputs);
    expect((await readFlags(file))['new-flag']).toMatchObject({ state: 'ENABLED', defaultVariant: 'off' });

    const before = await stat(file);
    await flagSetStep.undo!(flagSetStep.params.parse({ key: 'other', on: true }), ctx, { key: 'other', on: true });
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
    expect((await readFlags(file)).other?.defaultVariant).toBe('on');
  });

  it('accepts true/false/on/off as strings and refuses anything else', () => {
    const parse = (on: unknown) => flagSetStep.params.safeParse({ key: 'k', on });
    expect([true, false, 'true', 'FALSE', 'on', ' off '].map((v) => parse(v).data?.on)).toEqual([true, false, true, false, true, false]);
    expect(parse('yes').success).toBe(false);
    expect(parse(1).success).toBe(false);
  });

  it('a malformed flag file is an InvalidInputError naming file, line and column', async () => {
    const { file, ctx } = await flagFile('{\n  "flags": {\n    "k": { "state": "ENABLED", }\n  }\n}\n');
    const p = flagSetStep.params.parse({ key: 'k', on: true });
    const err = await flagSetStep.check(p, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+: flag file is not valid JSON`));
    await expect(flagCheckStep.check(flagCheckStep.params.parse({ key: 'k' }), ctx)).rejects.toBeInstanceOf(InvalidInputError);
  });
});

/** Our own FlagEvaluator interface, serving whatever the test sets (the real one is tested against flagd). */
class FakeEvaluator implements FlagEvaluator {
  readonly description = 'OFREP at http://flagd.test:8016';
  served: { value: unknown } | undefined = undefined;
  calls = 0;
  evaluate(): Promise<{ value: unknown } | undefined> {
    this.calls += 1;
    return Promise.resolve(this.served);
  }
}

describe('flag.set with an evaluation endpoint (propagation)', () => {
  it('after the switch, waits (without applying again) until the endpoint serves the declared value', async () => {
    const { file, provider, ctx: base } = await flagFile(flagd({ k: boolFlag('off') }));
    const evaluator = new FakeEvaluator();
    evaluator.served = { value: false };
    const ctx: StepContext = { ...base, flagEvaluator: async () => evaluator };
    const p = flagSetStep.params.parse({ key: 'k', on: true });

    // Not switched yet: apply, and say that a wait follows. The endpoint is not asked.
    expect(await flagSetStep.check(p, ctx)).toEqual({
      done: false,
      summary: `flag k is off in flag file ${file}, switching it on, then waiting until OFREP at http://flagd.test:8016 serves it`,
      // What the flag was, for the engine to save before apply switches it.
      before: { previous: { enabled: true, value: false } },
    });
    expect(evaluator.calls).toBe(0);
    await flagSetStep.apply!(p, ctx);

    const waiting = `flag k is on in flag file ${file}; waiting until OFREP at http://flagd.test:8016 serves it`;
    expect(await flagSetStep.check(p, ctx)).toEqual({ done: false, wait: true, applied: true, summary: `${waiting} (it serves false)` });
    evaluator.served = undefined;
    expect(await flagSetStep.check(p, ctx)).toMatchObject({ done: false, wait: true, summary: `${waiting} (it does not know the flag)` });
    evaluator.served = { value: undefined };
    expect(await flagSetStep.check(p, ctx)).toMatchObject({ done: false, wait: true, summary: `${waiting} (it serves no value)` });
    evaluator.served = { value: 'true' };
    expect(await flagSetStep.check(p, ctx)).toMatchObject({ done: false, wait: true, summary: `${waiting} (it serves "true")` });

    evaluator.served = { value: true };
    expect(await flagSetStep.check(p, ctx)).toEqual({
      done: true,
      summary: `flag k is on in flag file ${file}; OFREP at http://flagd.test:8016 serves it`,
      outputs: { key: 'k', on: true },
    });
    expect(await provider.get('k')).toMatchObject({ enabled: true, value: true });
  });

  it('switching off is served once the endpoint serves anything but true (off, no value, or an unknown flag)', async () => {
    const { ctx: base } = await flagFile(flagd({ k: boolFlag('off') }));
    const evaluator = new FakeEvaluator();
    const ctx: StepContext = { ...base, flagEvaluator: async () => evaluator };
    const p = flagSetStep.params.parse({ key: 'k', on: false });
    evaluator.served = { value: true };
    expect(await flagSetStep.check(p, ctx)).toMatchObject({ done: false, wait: true, summary: expect.stringContaining('(it serves true)') });
    for (const served of [{ value: false }, { value: undefined }, undefined]) {
      evaluator.served = served;
      expect(await flagSetStep.check(p, ctx)).toMatchObject({ done: true });
    }
  });

  it('an endpoint error fails the check as it is (the engine retries a TransientError)', async () => {
    const { ctx: base } = await flagFile(flagd({ k: boolFlag('on') }));
    const boom = new Error('OFREP at http://flagd.test:8016 rejected the token in OFREP_TOKEN (HTTP 401 for flag k)');
    const ctx: StepContext = { ...base, flagEvaluator: async () => ({ description: 'x', evaluate: () => Promise.reject(boom) }) };
    await expect(flagSetStep.check(flagSetStep.params.parse({ key: 'k', on: true }), ctx)).rejects.toBe(boom);
  });

  it('migrate plan says a switched flag still propagating would wait, not that it would be applied again', async () => {
    const { file, provider } = await flagFile(flagd({ k: boolFlag('on'), j: boolFlag('off') }));
    const evaluator = new FakeEvaluator();
    evaluator.served = { value: false };
    const bound = boundPlaybook(
      [
        { id: 'k-on', with: { key: 'k', on: true } },
        { id: 'j-on', with: { key: 'j', on: true } },
      ].map((s) => ({ ...s, type: flagSetStep })),
      { name: 'p' },
    );
    const services = {
      cwd: '.',
      kafka: () => Promise.reject(new Error('none')),
      flags: async () => provider,
      flagEvaluator: async () => evaluator,
      schemas: () => Promise.reject(new Error('none')),
    };
    const result = await planSteps(bound, services, new AbortController().signal, 1000);
    expect(result.steps.map((s) => [s.id, s.verdict, s.reason])).toEqual([
      ['k-on', 'would wait', `flag k is on in flag file ${file}; waiting until OFREP at http://flagd.test:8016 serves it (it serves false)`],
      ['j-on', 'would act', `flag j is off in flag file ${file}, switching it on, then waiting until OFREP at http://flagd.test:8016 serves it; would apply: switch flag j on`],
    ]);
  });
});
