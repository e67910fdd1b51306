import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { skipRequests } from '../../src/commands/run.js';
import type { RunEvent } from '../../src/engine/events.js';
import { executeRun } from '../../src/engine/execute.js';
import { UsageError } from '../../src/errors.js';
import { MemoryRunStore } from '../../src/state/memory-store.js';
import type { RunState } from '../../src/state/run-state.js';
import type { StepType } from '../../src/steps/contract.js';
import { boundPlaybook } from '../support/bound-playbook.js';

describe('--skip STEP --reason "..."', () => {
  it('pairs each --skip with its --reason, in order', () => {
    expect(skipRequests(['a', 'b'], ['no consumers yet', ' known flaky probe '])).toEqual([
      { step: 'a', reason: 'no consumers yet' },
      { step: 'b', reason: 'known flaky probe' },
    ]);
    expect(skipRequests([], [])).toEqual([]);
  });

  it('is a usage error without a reason, with an empty one, or with a reason and no skip', () => {
    expect(() => skipRequests(['a', 'b'], ['why a'])).toThrow(UsageError);
    expect(() => skipRequests(['a', 'b'], ['why a'])).toThrow('--skip b needs a --reason: a skipped step is recorded with who skipped it and why');
    expect(() => skipRequests(['a'], ['  '])).toThrow(UsageError);
    expect(() => skipRequests([], ['why'])).toThrow(/--reason "why" follows no --skip/);
  });

  it('marks the step skipped without looking at it, records who and why, and goes on', async () => {
    const looked: string[] = [];
    const step: StepType<{ thing: string }> = {
      type: 'test.look',
      params: z.object({ thing: z.string() }),
      timeoutMs: 100,
      intervalMs: 5,
      describe: (p) => p.thing,
      check: async (p) => (looked.push(p.thing), { done: true, summary: `${p.thing} is fine` }),
    };
    const bound = boundPlaybook(['a', 'b', 'c'].map((id) => ({ id, type: step, params: { thing: id } })));
    const state: RunState = {
      version: 1,
      name: 'r1',
      playbook: { name: 'test', ref: 'test', file: 'test.yaml', checksum: 'x' },
      params: {},
      paramsChecksum: 'y',
      status: 'failed',
      createdAt: '',
      updatedAt: '',
      steps: [
        { id: 'a', uses: step.type, status: 'done', attempts: 1 },
        { id: 'b', uses: step.type, status: 'failed', attempts: 2, error: { message: 'it broke', causes: [] } },
        { id: 'c', uses: step.type, status: 'pending', attempts: 0 },
      ],
      history: [],
    };
    const events: RunEvent[] = [];
    const outcome = await executeRun({
      bound,
      state,
      store: new MemoryRunStore(),
      emit: (e) => events.push(e),
      signal: new AbortController().signal,
      services: { cwd: '.', kafka: () => Promise.reject(new Error('none')), flags: () => Promise.reject(new Error('none')), schemas: () => Promise.reject(new Error('none')) },
      approve: new Set(),
      skip: new Map([['b', 'the endpoint is down for maintenance; checked by hand']]),
      yes: false,
      continueCommand: () => '',
    });
    expect(outcome).toEqual({ status: 'completed' });
    expect(looked).toEqual(['c']);
    const b = state.steps[1];
    expect(b).toMatchObject({ status: 'skipped', skip: { reason: 'the endpoint is down for maintenance; checked by hand', by: expect.stringContaining('@') } });
    expect(b?.error).toBeUndefined();
    expect(events.find((e) => e.type === 'step.skipped')).toMatchObject({ step: 'b', reason: 'the endpoint is down for maintenance; checked by hand' });
    expect(state.history.find((h) => h.type === 'step.skipped')).toMatchObject({ step: 'b', detail: { reason: 'the endpoint is down for maintenance; checked by hand' } });
  });
});
