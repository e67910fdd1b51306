import { RunLockedError } from '../errors.js';
import type { RunState } from './run-state.js';
import type { RunLock, RunStore } from './store.js';

/** A RunStore in memory, for engine unit tests. */
export class MemoryRunStore implements RunStore {
  readonly states = new Map<string, RunState>();
  readonly writes: RunState[] = [];
  private readonly locks = new Set<string>();

  async read(name: string): Promise<RunState | undefined> {
    const s = this.states.get(name);
    return s && structuredClone(s);
  }
  async list(): Promise<RunState[]> {
    return [...this.states.values()].map((s) => structuredClone(s));
  }
  async write(state: RunState): Promise<void> {
    const copy = structuredClone(state);
    this.states.set(state.name, copy);
    this.writes.push(copy);
  }
  async lock(name: string): Promise<RunLock> {
    if (this.locks.has(name)) throw new RunLockedError(name, { pid: process.pid, host: 'memory', startedAt: '' }, 'memory');
    this.locks.add(name);
    return { release: async () => void this.locks.delete(name) };
  }
}
