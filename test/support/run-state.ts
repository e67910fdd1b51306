import type { RunState } from '../../src/state/run-state.js';

/** A valid run state for tests: one pending kafka.topic step, no history; override what matters. */
export function runStateFixture(overrides: Partial<RunState> & { name: string }): RunState {
  const now = new Date().toISOString();
  return {
    version: 1,
    playbook: { name: 'pb', ref: 'pb', file: 'pb.yaml', checksum: 'abc' },
    params: { topic: 'orders' },
    paramsChecksum: 'def',
    status: 'running',
    createdAt: now,
    updatedAt: now,
    steps: [{ id: 'a', uses: 'kafka.topic', status: 'pending', attempts: 0 }],
    history: [],
    ...overrides,
  };
}
