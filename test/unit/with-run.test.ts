import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stepTypes } from '../../src/steps/index.js';
import { loadConfig } from '../../src/config.js';
import { withRun, type LockedRun } from '../../src/engine/with-run.js';
import { KafkaNotConfiguredError, RunLockedError } from '../../src/errors.js';
import type { BoundPlaybook } from '../../src/playbook/bind.js';
import { MemoryRunStore } from '../../src/state/memory-store.js';
import { runStateFixture } from '../support/run-state.js';

const playbook = `name: t
params:
  token: { required: true, secret: true }
steps:
  - id: topic
    uses: kafka.topic
    with: { name: datarep.orders, partitions: 1 }
  - id: ask
    uses: confirm
    with: { message: "go with \${{ params.token }}?" }
`;

async function setup() {
  const cwd = await mkdtemp(path.join(os.tmpdir(), 'migrate-with-run-'));
  await writeFile(path.join(cwd, 't.yaml'), playbook);
  const config = await loadConfig({ cwd, env: {} }); // no Kafka configured
  const store = new MemoryRunStore();
  const options = { cwd, config, env: {}, playbook: 't.yaml', stepTypes, params: { token: 's3cret' }, lock: { store, name: () => 'r' } };
  return { store, options };
}

describe('withRun', () => {
  it('refuses a step that needs an unconfigured service before it locks anything', async () => {
    const { store, options } = await setup();
    let ran = false;
    await expect(withRun(options, async () => void (ran = true))).rejects.toBeInstanceOf(KafkaNotConfiguredError);
    expect(ran).toBe(false);
    await (await store.lock('r')).release(); // the lock was never taken
  });

  it('holds the lock while the work runs, masks secrets in what it writes, and lets go however the work ends', async () => {
    const { store, options } = await setup();
    // Only the gate will act, so Kafka's absence does not matter.
    const acting = (bound: BoundPlaybook) => bound.steps.filter((s) => s.spec.id === 'ask');
    const failed = withRun({ ...options, acting }, async (run: LockedRun) => {
      expect(run.name).toBe('r');
      expect(run.bound.steps.map((s) => s.title)).toEqual(['topic', 'ask']);
      await expect(store.lock('r')).rejects.toBeInstanceOf(RunLockedError);
      await run.store.write(runStateFixture({ name: 'r', params: { token: '***' }, steps: [{ id: 'ask', uses: 'confirm', status: 'done', attempts: 1, summary: 'approved: go with s3cret?' }] }));
      expect(run.mask({ summary: 'token s3cret' })).toEqual({ summary: 'token ***' });
      throw new Error('boom');
    });
    await expect(failed).rejects.toThrow('boom');
    expect(store.states.get('r')?.steps[0]?.summary).toBe('approved: go with ***?');
    await (await store.lock('r')).release(); // released after the failure
  });
});
