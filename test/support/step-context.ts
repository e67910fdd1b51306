import type { StepContext } from '../../src/steps/contract.js';

/**
 * What the engine hands a step, for tests that drive one step directly: every service refuses
 * unless the test supplies it (a real flag file provider, a real schema directory, ...).
 */
export function stepContext(overrides: Partial<StepContext> = {}): StepContext {
  return {
    run: 'test-run',
    step: 'test-step',
    signal: new AbortController().signal,
    kafka: () => Promise.reject(new Error('this test gives the step no Kafka')),
    flags: () => Promise.reject(new Error('this test gives the step no flag provider')),
    flagEvaluator: () => Promise.resolve(undefined),
    schemas: () => Promise.reject(new Error('this test gives the step no schema registry')),
    cwd: process.cwd(),
    progress: () => undefined,
    memory: {},
    now: Date.now,
    defer: () => undefined,
    ...overrides,
  };
}
