import type { RunState } from './run-state.js';

/** A held run lock; release it in `finally`. */
export interface RunLock {
  release(): Promise<void>;
}

/** Where run states live. The file store is the default; others (shared, in-memory) plug in here. */
export interface RunStore {
  /** The state of a run, or undefined when there is none. */
  read(name: string): Promise<RunState | undefined>;
  /** Every run, newest first. */
  list(): Promise<RunState[]>;
  /** Persists a state durably before returning. */
  write(state: RunState): Promise<void>;
  /** Takes the run's exclusive lock, or throws RunLockedError naming the holder. */
  lock(name: string): Promise<RunLock>;
}

const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Run names become file names and record keys: keep them plain. */
export function isValidRunName(name: string): boolean {
  return RUN_NAME.test(name) && !name.includes('..');
}
