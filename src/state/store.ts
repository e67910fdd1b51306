import type { FencedWrite } from './kafka-fence.js';
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
  /** Records of the run a reader ignores: late writes of a holder that lost the lock (stores that can have them). */
  fencedWrites?(name: string): Promise<FencedWrite[]>;
  /** Takes the run's exclusive lock, or throws RunLockedError naming the holder. */
  lock(name: string): Promise<RunLock>;
  /**
   * Keeps the store's connection open until the returned function is called, for a process that
   * reads again and again (the dashboard, a run waiting for an approval); stores that connect
   * per call otherwise (Kafka) connect once instead of at every read.
   */
  keepOpen?(): () => Promise<void>;
}
