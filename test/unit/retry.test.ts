import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stepTypes } from '../../src/steps/index.js';
import { loadConfig } from '../../src/config.js';
import type { RunEvent } from '../../src/engine/events.js';
import { backoffMs, retrier } from '../../src/engine/retry.js';
import { rollbackRun } from '../../src/engine/rollback.js';
import { runPlaybook } from '../../src/engine/run-playbook.js';
import { openServices } from '../../src/engine/services.js';
import { DriftError, TransientError } from '../../src/errors.js';
import { FileRunStore } from '../../src/state/file-store.js';

/** A call that fails transiently `times` times, then answers. */
function flaky(times: number) {
  let calls = 0;
  return async () => {
    calls += 1;
    if (calls <= times) throw new TransientError(`blink ${calls}`);
    return calls;
  };
}

describe('the retry policy', () => {
  it('doubles the wait from its base, and never waits more than 10s', () => {
    expect([1, 2, 3, 4].map((n) => backoffMs(500, n))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffMs(500, 6)).toBe(10_000);
    expect(backoffMs(8000, 2)).toBe(10_000);
  });

  const policy = (over: { retries?: number; deadline?: number } = {}) => {
    const events: RunEvent[] = [];
    const attempt = retrier({ run: 'r', step: 's', now: () => 0, deadline: 1e9, signal: new AbortController().signal, emit: (e) => events.push(e), baseMs: 1, ...over });
    return { attempt, events };
  };

  it('retries transient errors up to the step\'s retries, counting failures in a row across calls', async () => {
    const { attempt, events } = policy({ retries: 2 });
    expect(await attempt(flaky(2))).toBe(3);
    expect(events).toEqual([
      { type: 'step.retry', run: 'r', step: 's', error: 'blink 1', delayMs: 1, retry: 1 },
      { type: 'step.retry', run: 'r', step: 's', error: 'blink 2', delayMs: 2, retry: 2 },
    ]);
    // A success starts the count again; three in a row are one too many.
    expect(await attempt(flaky(2))).toBe(3);
    await expect(attempt(flaky(3))).rejects.toThrow('blink 3');
  });

  it('does not wait past the deadline, and fails at once on drift or an error that is not transient', async () => {
    const late = policy({ deadline: 3 });
    await expect(late.attempt(flaky(5))).rejects.toThrow('blink 3'); // waits 1 and 2; a wait of 4 would end after 3
    expect(late.events.map((e) => (e as { delayMs: number }).delayMs)).toEqual([1, 2]);

    const { attempt, events } = policy();
    await expect(attempt(() => Promise.reject(new DriftError('topic t', ['partitions: declared 3, found 1'])))).rejects.toBeInstanceOf(DriftError);
    await expect(attempt(() => Promise.reject(new Error('permission denied')))).rejects.toThrow('permission denied');
    expect(events).toEqual([]);
  });

  it('holds for rollback too: an undo that keeps failing transiently stops at the step\'s timeout', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'migrate-retry-'));
    await writeFile(path.join(cwd, 'switch.yaml'), 'name: switch\nsteps:\n  - id: switch\n    uses: flag.set\n    timeout: 500ms\n    with: { key: f, on: true }\n');
    await writeFile(path.join(cwd, 'flags.json'), JSON.stringify({ flags: { f: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' } } }));
    const config = await loadConfig({ cwd, env: {} });
    const store = new FileRunStore(config.stateDir);
    const signal = new AbortController().signal;
    const run = await runPlaybook({ playbook: 'switch.yaml', stepTypes, cwd, config, store, params: {}, emit: () => undefined, signal, env: {} });
    expect(run.outcome.status).toBe('completed');

    // The real flag file answers reads; every write blinks.
    const real = openServices(config, cwd);
    const blinking = {
      ...real,
      flags: async () => {
        const provider = await real.flags();
        return { description: provider.description, get: (key: string) => provider.get(key), set: () => Promise.reject(new TransientError('flag service blinked')) };
      },
    };
    const events: RunEvent[] = [];
    const result = await rollbackRun({ run: run.run, stepTypes, cwd, config, store, emit: (e) => events.push(e), signal, confirm: async () => true, env: {}, services: blinking, retryBaseMs: 200 });
    await real.close();
    expect(result.outcome).toEqual({ status: 'failed', step: 'switch', error: 'flag service blinked' });
    // Waits of 200ms, then 400ms: the second would end after the 500ms timeout, so there is one retry (not a fixed three).
    expect(events.filter((e) => e.type === 'step.retry').map((e) => (e as { delayMs: number }).delayMs)).toEqual([200]);
  });
});
