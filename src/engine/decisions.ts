import { RunNotFoundError, UsageError } from '../errors.js';
import type { Approval, RunState, Skip, StepState } from '../state/run-state.js';
import type { RunStore } from '../state/store.js';

/** Marks a gate approved: who, how and when, as `--approve`, `--yes`, a prompt or the dashboard decided. */
export function markApproved(st: StepState, approval: Approval): void {
  st.approval = approval;
  st.status = 'done';
  st.attempts += 1;
  st.finishedAt = approval.at;
  st.summary = `approved by ${approval.by} (${approval.via})`;
}

/** Marks a step skipped by a person's decision; the step's world is left as it is. */
export function markSkipped(st: StepState, skip: Skip): void {
  st.status = 'skipped';
  st.skip = skip;
  delete st.summary; // st.skip says who skipped it and why
  delete st.error;
}

/** A decision taken outside `migrate run` (the dashboard): approve the gate a run waits at, or skip a step. */
export type StoredDecision = { kind: 'approve'; step: string; approval: Approval } | { kind: 'skip'; step: string; skip: Skip };

/**
 * Records a decision in a run that no process drives: takes the run's lock (so it never races the
 * engine, and the Kafka store's fencing sees an ordinary holder; a driven run: RunLockedError), marks the step as the engine
 * would, appends the history entry the engine's event would have, and saves. A run paused at the
 * gate and waiting for it (`migrate run --wait-approval`) sees the step decided and resumes.
 */
export async function recordDecision(store: RunStore, name: string, d: StoredDecision): Promise<RunState> {
  const lock = await store.lock(name);
  let failed = false;
  try {
    const state = await store.read(name);
    if (!state) throw new RunNotFoundError(name);
    const st = state.steps.find((s) => s.id === d.step);
    if (!st) throw new UsageError(`run ${name} has no step "${d.step}"`, `its steps: ${state.steps.map((s) => s.id).join(', ')}`);
    if (d.kind === 'approve') {
      if (state.pausedAt !== d.step || st.status !== 'waiting') throw new UsageError(`run ${name} is not waiting at the gate "${d.step}"`);
      markApproved(st, d.approval);
      state.history.push({ at: d.approval.at, type: 'gate.approved', step: d.step, detail: { by: d.approval.by, via: d.approval.via } });
    } else {
      if (!d.skip.reason.trim()) throw new UsageError(`skip ${d.step}: the reason is empty`, 'say why the step is skipped');
      if (st.status === 'done' || st.status === 'skipped') throw new UsageError(`run ${name}: step "${d.step}" is ${st.status} already`);
      markSkipped(st, d.skip);
      state.history.push({ at: d.skip.at, type: 'step.skipped', step: d.step, detail: { by: d.skip.by, reason: d.skip.reason } });
    }
    if (state.pausedAt === d.step) delete state.pausedAt;
    state.updatedAt = new Date().toISOString();
    await store.write(state);
    return state;
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    // An unlock failure never hides the error that came first.
    await lock.release().catch((err: unknown) => {
      if (!failed) throw err;
    });
  }
}
