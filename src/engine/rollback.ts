import type { Config } from '../config.js';
import { causeChain, PlaybookChangedError, RunNotFoundError, UsageError } from '../errors.js';
import type { BoundPlaybook, BoundStep } from '../playbook/bind.js';
import { loadPlaybook, type LoadedPlaybook } from '../playbook/load.js';
import type { RunState, StepState, StepStatus } from '../state/run-state.js';
import { assertRunName } from '../state/run-name.js';
import type { RunStore } from '../state/store.js';
import { stepProvides, type StepTypes } from '../steps/contract.js';
import { abortable } from '../util/time.js';
import type { EventSink } from './events.js';
import { runJournal, whoAmI } from './history.js';
import { retrier } from './retry.js';
import { storedParams } from './run-playbook.js';
import type { Services } from './services.js';
import { stepContext, stepParams } from './step-context.js';
import { withRun } from './with-run.js';

/** What rollback does with one step it walks back over. */
export type RollbackAction =
  /** The step's type has undo: run it with the params and outputs the run recorded. */
  | 'undo'
  /** Nothing in the world to undo (a check, a wait, a gate): the step goes back to pending. */
  | 'reset'
  /** The step changed the world and has no undo: said plainly, and the step stays as it is. */
  | 'not-undoable';

/** One step rollback will handle, newest first. */
export interface RollbackStep {
  id: string;
  uses: string;
  title: string;
  status: StepStatus;
  action: RollbackAction;
  /** What undo puts back, why the step is reset, or why it cannot be undone. */
  reason: string;
  /** What the step.undone event will say once it is done. */
  done?: string;
}

/** What a rollback will do, shown before it does it. */
export interface RollbackPreview {
  run: string;
  playbook: string;
  to?: string;
  steps: RollbackStep[];
}

/** How a rollback ended. */
export type RollbackOutcome =
  | { status: 'rolled-back' }
  | { status: 'failed'; step: string; error: string }
  | { status: 'unconfirmed' }
  | { status: 'interrupted'; step?: string };

/** What `migrate rollback` asks of the engine. */
export interface RollbackOptions {
  run: string;
  /** The step types playbooks may use: the built-ins and the configured plugins (steps/plugins.ts). */
  stepTypes: StepTypes;
  cwd: string;
  config: Config;
  store: RunStore;
  /** Walk back down to and including this step (default: the first step). */
  to?: string | undefined;
  /** Roll back even though the playbook changed since the run used it. */
  allowChanged?: boolean;
  /** --param: values of secret params, which the run's state does not keep (masked as ***). */
  params?: Record<string, string>;
  emit: EventSink;
  signal: AbortSignal;
  /** Asked once, under the lock, when there is something to undo or reset; false changes nothing. */
  confirm(preview: RollbackPreview): Promise<boolean>;
  env?: Record<string, string | undefined>;
  /** The world to act on; by default the configured services. */
  services?: Services;
  now?: () => number;
  /** Base of the retry backoff for transient errors, in ms. */
  retryBaseMs?: number;
}

/** The result of one `migrate rollback`. */
export interface RollbackResult {
  run: string;
  preview: RollbackPreview;
  outcome: RollbackOutcome;
  state: RunState;
}

/**
 * `migrate rollback RUN [--to STEP]`: walks the run's steps back from the newest, undoing what can
 * be undone with the params and outputs the run recorded, and saying plainly what cannot. Takes
 * the run's lock. A failed undo leaves the state as it is: running rollback again continues.
 */
export async function rollbackRun(o: RollbackOptions): Promise<RollbackResult> {
  const name = assertRunName(o.run);
  const before = await o.store.read(name);
  if (!before) throw new RunNotFoundError(name);
  if (o.to !== undefined && !before.steps.some((s) => s.id === o.to)) {
    throw new UsageError(`--to ${o.to}: run ${name} has no step "${o.to}"`, `its steps: ${before.steps.map((s) => s.id).join(', ')}`);
  }
  return withRun(
    {
      cwd: o.cwd,
      config: o.config,
      env: o.env,
      playbook: () => loadRunPlaybook(before, o.cwd, o.stepTypes, Boolean(o.allowChanged)),
      stepTypes: o.stepTypes,
      params: () => rollbackParams(before, o.params ?? {}),
      // Only the steps it will undo reach the world.
      acting: (bound) => previewRollback(before, bound, o.to).steps.flatMap((s) => (s.action === 'undo' ? (stepOf(bound, s.id) ?? []) : [])),
      services: o.services,
      lock: { store: o.store, name: () => name },
    },
    async ({ bound, services, mask, store }) => {
      // Read again under the lock: another process may have moved the run on in between.
      const state = (await o.store.read(name)) ?? before;
      // What a step describes may hold a secret param's value (a URL with ?token=...): masked wherever it goes.
      const preview = mask(previewRollback(state, bound, o.to));
      const acts = preview.steps.some((s) => s.action !== 'not-undoable');
      if (acts && !(await o.confirm(preview))) return { run: name, preview, outcome: { status: 'unconfirmed' }, state };
      const outcome = await walkBack({ ...o, emit: (e) => o.emit(mask(e)), store }, state, bound, preview, services);
      return { run: name, preview, outcome, state: mask(state) };
    },
  );
}

/** The playbook the run used, loaded again; a changed one is refused unless allowed. */
async function loadRunPlaybook(state: RunState, cwd: string, stepTypes: StepTypes, allowChanged: boolean): Promise<LoadedPlaybook> {
  let loaded: LoadedPlaybook;
  try {
    loaded = await loadPlaybook(state.playbook.ref, cwd, stepTypes);
  } catch (err) {
    // The name may resolve elsewhere from this directory; the file the run read is the next best.
    if (state.playbook.file === state.playbook.ref) throw err;
    loaded = await loadPlaybook(state.playbook.file, cwd, stepTypes).catch(() => Promise.reject(err));
  }
  if (loaded.checksum !== state.playbook.checksum && !allowChanged) throw new PlaybookChangedError(state.name, 'playbook');
  return loaded;
}

function stepOf(bound: BoundPlaybook, id: string): BoundStep | undefined {
  return bound.steps.find((s) => s.spec.id === id);
}

/** What rollback will do to each step from the newest down to `to` (pure: reads the state only). */
export function previewRollback(state: RunState, bound: BoundPlaybook, to?: string): RollbackPreview {
  const last = to === undefined ? 0 : state.steps.findIndex((s) => s.id === to);
  const steps: RollbackStep[] = [];
  for (let i = state.steps.length - 1; i >= Math.max(0, last); i--) {
    const st = state.steps[i] as StepState;
    if (st.status === 'pending' || st.status === 'skipped') continue; // nothing was done
    const step = stepOf(bound, st.id);
    const base = { id: st.id, uses: st.uses, title: step?.title ?? st.id, status: st.status };
    steps.push({ ...base, ...decide(st, step, state, bound) });
  }
  return { run: state.name, playbook: state.playbook.name, ...(to !== undefined ? { to } : {}), steps };
}

function decide(st: StepState, step: BoundStep | undefined, state: RunState, bound: BoundPlaybook): Pick<RollbackStep, 'action' | 'reason' | 'done'> {
  const notUndoable = (reason: string) => ({ action: 'not-undoable' as const, reason: `${st.uses}: ${reason}` });
  const reset = (reason: string) => ({ action: 'reset' as const, reason, done: reason });
  if (!step) return notUndoable(`the playbook no longer has step ${st.id}, so its params are unknown; check what it did by hand`);
  const type = step.type;
  if (type.gate) return reset('a gate: the approval is withdrawn, so running again asks again');
  const provides = stepProvidesIn(step, state, bound);
  if (!provides.apply) return reset('it only looked at the world: nothing to undo');
  const what = describeStep(step, state, bound);
  if (st.status !== 'done') {
    // Killed or failed after it acted: what it saw before acting was saved first, so put that back.
    if (provides.undo && st.before) return { action: 'undo', reason: `it did not finish (${st.status}); put back what it found before acting: ${what}`, done: `undone: ${what}` };
    return notUndoable(`it did not finish (${st.status}), so what it may have changed was not recorded; check by hand: ${what}`);
  }
  if (!provides.undo) return notUndoable(type.irreversible ?? 'it has no undo; what it changed is kept');
  if (changedNothing(state, st.id)) {
    const reason = `it found the world as declared and changed nothing, so nothing is put back (${what})`;
    return { action: 'undo', reason, done: reason };
  }
  return { action: 'undo', reason: `put back what this did: ${what}`, done: `undone: ${what}` };
}

/** Whether the step acts and can be undone, with the params the run gave it (the type's own methods say, if those cannot be known). */
function stepProvidesIn(step: BoundStep, state: RunState, bound: BoundPlaybook): { apply: boolean; undo: boolean } {
  try {
    return stepProvides(step.type, stepParams(step, state, bound));
  } catch {
    return { apply: Boolean(step.type.apply), undo: Boolean(step.type.undo) };
  }
}

function describeStep(step: BoundStep, state: RunState, bound: BoundPlaybook): string {
  try {
    return step.type.describe(stepParams(step, state, bound));
  } catch {
    return step.title;
  }
}

/** The run's last step.done for this step said the world already satisfied it. */
function changedNothing(state: RunState, id: string): boolean {
  const done = state.history.findLast((h) => h.step === id && (h.type === 'step.done' || h.type === 'step.undone'));
  return done?.type === 'step.done' && done.detail?.alreadyDone === true;
}

async function walkBack(o: RollbackOptions, state: RunState, bound: BoundPlaybook, preview: RollbackPreview, services: Services): Promise<RollbackOutcome> {
  const now = o.now ?? Date.now;
  const started = now();
  const { emit, save } = runJournal(state, o.store, o.emit, now);
  let undone = 0;
  let notUndoable = 0;
  const finish = async (outcome: Exclude<RollbackOutcome, { status: 'unconfirmed' }>): Promise<RollbackOutcome> => {
    const step = 'step' in outcome ? outcome.step : undefined;
    emit({ type: 'rollback.finished', run: state.name, status: outcome.status, undone, notUndoable, ...(step ? { step } : {}), durationMs: now() - started });
    await save();
    return outcome;
  };

  emit({ type: 'rollback.started', run: state.name, playbook: state.playbook.name, ...(o.to !== undefined ? { to: o.to } : {}), by: whoAmI() });
  await save();
  for (const planned of preview.steps) {
    if (o.signal.aborted) return interrupted(planned.id);
    const st = state.steps.find((s) => s.id === planned.id) as StepState;
    if (planned.action === 'not-undoable') {
      notUndoable += 1;
      emit({ type: 'step.not-undoable', run: state.name, step: st.id, reason: planned.reason });
      await save();
      continue;
    }
    const outputs = st.outputs;
    if (planned.action === 'undo') {
      const step = stepOf(bound, st.id) as BoundStep;
      try {
        await undoStep(o, step, state, bound, st, services, emit, now);
      } catch (err) {
        if (o.signal.aborted) return interrupted(st.id);
        const chain = causeChain(err);
        const message = chain[0] ?? String(err);
        st.error = { message: `undo failed: ${message}`, causes: chain.slice(1) };
        state.status = 'failed';
        emit({ type: 'step.undo-failed', run: state.name, step: st.id, error: message, causes: chain.slice(1) });
        await save();
        return finish({ status: 'failed', step: st.id, error: message });
      }
    }
    backToPending(st);
    undone += 1;
    emit({ type: 'step.undone', run: state.name, step: st.id, summary: planned.done ?? planned.reason, ...(planned.action === 'undo' && outputs ? { outputs } : {}) });
    await save();
  }
  state.status = 'rolled-back';
  delete state.pausedAt;
  return finish({ status: 'rolled-back' });

  async function interrupted(step: string): Promise<RollbackOutcome> {
    state.status = 'paused';
    state.pausedAt = 'interrupted';
    return finish({ status: 'interrupted', step });
  }
}

/**
 * Runs the step type's undo; transient errors (a broker that blinked) are retried under the run's
 * retry policy, within the step's timeout.
 */
async function undoStep(
  o: RollbackOptions,
  step: BoundStep,
  state: RunState,
  bound: BoundPlaybook,
  st: StepState,
  services: Services,
  emit: EventSink,
  now: () => number,
): Promise<void> {
  const undo = step.type.undo?.bind(step.type);
  if (!undo) return;
  const params = stepParams(step, state, bound);
  if (!stepProvides(step.type, params).undo) return;
  const started = now();
  const deadline = started + (step.spec.timeout ?? step.type.timeoutMs);
  const attempt = retrier({ run: state.name, step: st.id, retries: step.spec.retries, deadline, now, signal: o.signal, emit, baseMs: o.retryBaseMs });
  await attempt(async () => {
    // A context per try: what a failed try deferred is cleaned up before the next one.
    const { ctx, cleanup } = stepContext({
      run: state.name,
      step: st.id,
      signal: o.signal,
      services,
      now,
      deadline,
      progress: (progress) => emit({ type: 'step.progress', run: state.name, step: st.id, progress, elapsedMs: now() - started }),
    });
    try {
      await abortable(undo(params, ctx, { ...(st.before ?? {}), ...(st.outputs ?? {}) }), o.signal);
    } finally {
      await cleanup();
    }
  });
}

/**
 * The params the run was started with. Secret ones are stored masked, so they are given again with
 * --param; a param the state does keep cannot be changed here (the rollback would undo something
 * else than the run did).
 */
function rollbackParams(state: RunState, given: Record<string, string>): Record<string, string> {
  const stored = storedParams(state);
  for (const [key, value] of Object.entries(given)) {
    if (!Object.hasOwn(state.params, key)) throw new UsageError(`--param ${key}: run ${state.name} has no param "${key}"`);
    if (Object.hasOwn(stored, key) && stored[key] !== value) {
      throw new UsageError(`--param ${key}: run ${state.name} was started with another value; rollback uses the run's params`, '--param only gives secret params, which the state does not keep');
    }
  }
  const missing = Object.keys(state.params).filter((k) => state.params[k] === '***' && !Object.hasOwn(given, k));
  if (missing.length) {
    throw new UsageError(
      `run ${state.name} was started with secret ${missing.length === 1 ? 'param' : 'params'} ${missing.join(', ')}, which its state does not keep`,
      `give ${missing.length === 1 ? 'it' : 'them'} again: ${missing.map((k) => `--param ${k}=...`).join(' ')}`,
    );
  }
  return { ...stored, ...given };
}

/** The step as if it had never run; the history keeps what it did and what undid it. */
function backToPending(st: StepState): void {
  st.status = 'pending';
  delete st.startedAt;
  delete st.finishedAt;
  delete st.summary;
  delete st.outputs;
  delete st.before;
  delete st.error;
  delete st.approval;
}
