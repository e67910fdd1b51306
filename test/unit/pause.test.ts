import { describe, expect, it } from 'vitest';
import { pauseStep } from '../../src/steps/pause.js';
import { stepContext } from '../support/step-context.js';

describe('pause', () => {
  it('is done once the time has passed since its first look, reporting what is left until then', async () => {
    let now = 1_000_000;
    const ctx = stepContext({ now: () => now });
    const p = pauseStep.params.parse({ for: '30s', reason: 'SDKs poll every 15s' });
    expect(await pauseStep.check(p, ctx)).toMatchObject({ done: false, summary: 'waited 0ms of 30s', progress: { metrics: { waitedMs: 0, etaMs: 30_000 } } });
    now += 29_999;
    expect(await pauseStep.check(p, ctx)).toMatchObject({ done: false, progress: { metrics: { etaMs: 1 } } });
    now += 1;
    expect(await pauseStep.check(p, ctx)).toEqual({ done: true, summary: 'waited 30s: SDKs poll every 15s' });
  });

  it('counts afresh in a new execution (a resumed run waits the whole pause again)', async () => {
    const p = pauseStep.params.parse({ for: 1000 });
    const first = stepContext({ now: () => 5_000 });
    await pauseStep.check(p, first);
    const resumed = stepContext({ now: () => 10_000 });
    expect(await pauseStep.check(p, resumed)).toMatchObject({ done: false, summary: 'waited 0ms of 1s' });
  });

  it('refuses a duration it cannot read, and a missing one', () => {
    expect(pauseStep.params.safeParse({ for: 'a while' }).error?.issues[0]?.message).toBe('"a while" is not a duration (examples: 500ms, 30s, 10m, 1h)');
    expect(pauseStep.params.safeParse({}).success).toBe(false);
  });
});
