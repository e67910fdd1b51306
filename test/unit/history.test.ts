// The run's journal (src/engine/history.ts): what a progress sample keeps in the run's history.
import { describe, expect, it } from 'vitest';
import { runJournal } from '../../src/engine/history.js';
import type { RunEvent } from '../../src/engine/events.js';
import { MemoryRunStore } from '../../src/state/memory-store.js';
import { runStateFixture } from '../support/run-state.js';

describe('runJournal', () => {
  it("keeps a progress sample's message and metrics in the history, and hands the event on whole, per-item detail included", () => {
    const state = runStateFixture({ name: 'r', history: [] });
    const handed: RunEvent[] = [];
    const journal = runJournal(state, new MemoryRunStore(), (e) => handed.push(e), () => Date.parse('2026-11-30T00:00:00Z'));
    const detail = Object.fromEntries(Array.from({ length: 10_000 }, (_, p) => [String(p), 1]));
    const progress = { message: 'lag 10000', metrics: { lag: 10_000, partitions: 10_000 }, detail };

    journal.emit({ type: 'step.progress', run: 'r', step: 'drained', progress, elapsedMs: 5 });

    expect(handed[0]).toMatchObject({ type: 'step.progress', progress: { detail } });
    expect(state.history).toEqual([{ at: '2026-11-30T00:00:00.000Z', type: 'step.progress', step: 'drained', detail: { progress: { message: 'lag 10000', metrics: { lag: 10_000, partitions: 10_000 } }, elapsedMs: 5 } }]);
  });
});
