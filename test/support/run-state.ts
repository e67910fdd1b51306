import { readFile } from 'node:fs/promises';
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

/**
 * Reads a state file every few milliseconds while runs go on (and get killed); records every read
 * that does not parse, which would mean a write that was not atomic. `onRead` sees each parsed state.
 */
export function watchStateFile(file: string, onRead: (state: { status?: string; steps?: { id: string; status: string }[] }) => void = () => undefined) {
  const bad: string[] = [];
  let reads = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    readFile(file, 'utf8')
      .then(
        (text) => {
          reads += 1;
          let state: unknown;
          try {
            state = JSON.parse(text);
          } catch {
            bad.push(text);
            return;
          }
          onRead(state as Parameters<typeof onRead>[0]);
        },
        () => undefined, // not created yet
      )
      .finally(() => (busy = false));
  }, 3);
  return { bad, reads: () => reads, stop: () => clearInterval(timer) };
}
