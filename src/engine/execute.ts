import { causeChain, StepFailedError } from '../errors.js';
import type { BoundPlaybook, BoundStep } from '../playbook/bind.js';
import { expandString } from '../playbook/template.js';
import type { Approval, RunState, StepState } from '../state/run-state.js';
import type { RunStore } from '../state/store.js';
import { stepProvides, type Check } from '../steps/contract.js';
import { formatDuration, sleep } from '../util/time.js';
import { markApproved, markSkipped } from './decisions.js';
import type { EventSink } from './events.js';
import { runJournal, whoAmI } from './history.js';
import { retrier } from './retry.js';
import type { Services } from './services.js';
import { runValues, stepContext, stepParams } from './step-context.js';

/** A gate to put to a person. */
export interface GateQuestion {
  run: string;
  step: string;
  title: string;
  message: string;
  description?: string;
}

/** Everything the step machine needs; the caller owns the lock and the services. */
export interface ExecuteOptions {
  bound: BoundPlaybook;
  state: RunState;
  store: RunStore;
  emit: EventSink;
  signal: AbortSignal;
  services: Services;
  /** Steps approved ahead of time with --approve. */
  approve: ReadonlySet<string>;
  /** Steps to mark skipped without running them (--skip), with the reason given for each. */
  skip?: ReadonlyMap<string, string>;
  /** --yes: approve every gate. */
  yes: boolean;
  /** Present when a person can answer at a terminal. */
  askGate?: (q: GateQuestion) => Promise<boolean>;
  /** The command that continues the run, for the message at a gate. */
  continueCommand(gate: string): string;
  now?: () => number;
  /** Base of the retry backoff, in ms (tests shorten it). */
  retryBaseMs?: number;
}

/** How a run ended this time. */
export type ExecuteOutcome =
  | { status: 'completed' }
  | { status: 'paused'; step: string; continueWith: string }
  | { status: 'failed'; step: string; error: StepFailedError }
  | { status: 'interrupted'; step?: string };

/** Runs the playbook's steps in order from wherever the state says, saving state before and after each. */
export async function executeRun(options: ExecuteOptions): Promise<ExecuteOutcome> {
  const now = options.now ?? Date.now;
  const started = now();
  const { state } = options;
  // Every event also goes into the run's audit trail, saved with the next state write.
  const { emit, save, saveSampled } = runJournal(state, options.store, options.emit, now);
  const o: ExecuteOptions = { ...options, emit };
  const finish = async (status: ExecuteOutcome['status'], step?: string) => {
    o.emit({ type: 'run.finished', run: state.name, status, ...(step ? { step } : {}), durationMs: now() - started });
    await save(); // the history now holds how the run ended
  };

  state.status = 'running';
  delete state.pausedAt;
  await save();

  for (let i = 0; i < o.bound.steps.length; i++) {
    const step = o.bound.steps[i] as BoundStep;
    const st = state.steps[i] as StepState;
    if (st.status === 'done' || st.status === 'skipped') continue;
    if (o.signal.aborted) return interrupted(step.spec.id);

    const skipReason = o.skip?.get(step.spec.id);
    if (skipReason !== undefined) {
      // A person's decision, recorded with who and why; the step's world is left as it is.
      const skip = { by: whoAmI(), reason: skipReason, at: new Date(now()).toISOString() };
      markSkipped(st, skip);
      await save();
      o.emit({ type: 'step.skipped', run: state.name, step: step.spec.id, by: skip.by, reason: skip.reason });
      continue;
    }

    if (step.type.gate) {
      const approval = await decideGate(o, step, st, now);
      if (!approval) {
        st.status = 'waiting';
        state.status = 'paused';
        state.pausedAt = step.spec.id;
        await save();
        const continueWith = o.continueCommand(step.spec.id);
        o.emit({ type: 'gate.waiting', run: state.name, step: step.spec.id, message: gateMessage(step), continueWith });
        await finish('paused', step.spec.id);
        return { status: 'paused', step: step.spec.id, continueWith };
      }
      markApproved(st, approval);
      await save();
      o.emit({ type: 'gate.approved', run: state.name, step: step.spec.id, by: approval.by, via: approval.via });
      o.emit({ type: 'step.done', run: state.name, step: step.spec.id, summary: st.summary ?? '', durationMs: 0 });
      continue;
    }

    // Record intent before touching the world: a crash from here on leaves "running", and the
    // next run re-checks the world before acting again.
    st.status = 'running';
    st.attempts += 1;
    st.startedAt ??= new Date(now()).toISOString();
    delete st.error;
    await save();
    o.emit({ type: 'step.started', run: state.name, step: step.spec.id, title: step.title, attempt: st.attempts });
    const stepStart = now();
    try {
      const params = stepParams(step, state, o.bound);
      const result = await converge(o, step, params, now, {
        recordBefore: async (before) => {
          st.before = before;
          await save();
        },
        saveSampled,
      });
      st.status = 'done';
      st.finishedAt = new Date(now()).toISOString();
      st.summary = result.summary;
      // What was recorded before apply (a previous run's, if it died after applying) comes first.
      const outputs = { ...(st.before ?? {}), ...(result.outputs ?? {}) };
      if (Object.keys(outputs).length) st.outputs = outputs;
      // Found done, but an earlier attempt recorded what it saw before acting: that attempt acted.
      const alreadyDone = result.alreadyDone && st.before === undefined;
      delete st.before;
      await save();
      o.emit({
        type: 'step.done',
        run: state.name,
        step: step.spec.id,
        summary: result.summary,
        durationMs: now() - stepStart,
        ...(alreadyDone ? { alreadyDone: true } : {}),
      });
    } catch (err) {
      if (o.signal.aborted) return interrupted(step.spec.id);
      const message = err instanceof Error ? err.message : String(err);
      const failure = new StepFailedError(state.name, step.spec.id, st.attempts, message, err);
      st.status = 'failed';
      st.error = { message, causes: causeChain(err).slice(1) };
      state.status = 'failed';
      await save();
      o.emit({ type: 'step.failed', run: state.name, step: step.spec.id, error: message, causes: st.error.causes });
      await finish('failed', step.spec.id);
      return { status: 'failed', step: step.spec.id, error: failure };
    }
  }
  state.status = 'completed';
  await save();
  await finish('completed');
  return { status: 'completed' };

  async function interrupted(stepId: string): Promise<ExecuteOutcome> {
    const st = state.steps.find((s) => s.id === stepId);
    if (st?.status === 'running') st.status = 'pending';
    state.status = 'paused';
    state.pausedAt = 'interrupted';
    await save();
    await finish('interrupted', stepId);
    return { status: 'interrupted', step: stepId };
  }
}

async function decideGate(o: ExecuteOptions, step: BoundStep, st: StepState, now: () => number): Promise<Approval | undefined> {
  const by = whoAmI();
  const at = new Date(now()).toISOString();
  if (o.approve.has(step.spec.id)) return { by, via: '--approve', at };
  if (o.yes) return { by, via: '--yes', at };
  if (o.askGate) {
    const q: GateQuestion = { run: o.state.name, step: step.spec.id, title: step.title, message: gateMessage(step) };
    if (step.spec.description) q.description = gateDescription(step.spec.description, o.state);
    if (await o.askGate(q)) return { by, via: 'prompt', at };
  }
  void st;
  return undefined;
}

/** A gate's description with its ${{ }} lookups filled in (left as written when one cannot be). */
function gateDescription(text: string, state: RunState): string {
  try {
    const value = expandString(text, runValues(state));
    return typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    return text;
  }
}

function gateMessage(step: BoundStep): string {
  const p = step.params as { message?: string } | undefined;
  return p?.message ?? step.title;
}

interface Converged {
  summary: string;
  outputs?: Record<string, unknown>;
  /** The first look found the world as declared: nothing was applied or waited for. */
  alreadyDone: boolean;
}

/** check; apply when needed; then poll check until it passes or the step's timeout runs out. */
async function converge(
  o: ExecuteOptions,
  step: BoundStep,
  params: unknown,
  now: () => number,
  journal: {
    /** Saves what check saw before apply changes the world. */
    recordBefore: (before: Record<string, unknown>) => Promise<void>;
    /** Saves the state when a progress sample was kept, so the wait shows in the store as it goes. */
    saveSampled: () => Promise<void>;
  },
): Promise<Converged> {
  const id = step.spec.id;
  const run = o.state.name;
  const timeoutMs = step.spec.timeout ?? step.type.timeoutMs;
  const intervalMs = step.spec.interval ?? step.type.intervalMs;
  const started = now();
  const deadline = started + timeoutMs;
  const { ctx, cleanup } = stepContext({
    run,
    step: id,
    signal: o.signal,
    services: o.services,
    now,
    deadline,
    progress: (progress) => o.emit({ type: 'step.progress', run, step: id, progress, elapsedMs: now() - started }),
  });

  /** Runs one call; transient errors are retried with backoff until retries or time run out. */
  const attempt = retrier({ run, step: id, retries: step.spec.retries, deadline, now, signal: o.signal, emit: o.emit, baseMs: o.retryBaseMs });

  try {
    let check: Check = await attempt(() => step.type.check(params, ctx));
    o.emit({ type: 'step.checked', run, step: id, done: check.done, summary: check.done ? (check.summary ?? 'satisfied') : check.summary });
    if (check.done) return { summary: check.summary ?? 'already satisfied', ...(check.outputs ? { outputs: check.outputs } : {}), alreadyDone: true };
    if (check.progress) ctx.progress(check.progress);

    const lookAgain = async (): Promise<Check> => {
      if (now() >= deadline) {
        const summary = check.done ? 'done' : check.summary;
        // A step with timeout 0 looks once: its failure is the finding itself, not a wait that ran out.
        throw new Error(timeoutMs === 0 ? summary : `timed out after ${formatDuration(timeoutMs)}: ${summary}`);
      }
      await sleep(Math.max(0, Math.min(intervalMs, deadline - now())), o.signal);
      const next = await attempt(() => step.type.check(params, ctx));
      if (!next.done && next.progress) ctx.progress(next.progress);
      await journal.saveSampled();
      return next;
    };

    // A step may need the world to settle before it can act (a group that still has members).
    while (!check.done && check.wait) check = await lookAgain();
    if (check.done) return { summary: check.summary ?? 'done', ...(check.outputs ? { outputs: check.outputs } : {}), alreadyDone: false };

    let applied: Record<string, unknown> = {};
    if (step.type.apply && stepProvides(step.type, params).apply) {
      const apply = step.type.apply.bind(step.type);
      // Saved before the world changes: what undo needs survives a crash right after apply.
      if (check.before) await journal.recordBefore(check.before);
      applied = (await attempt(() => apply(params, ctx))) ?? {};
      o.emit({ type: 'step.applied', run, step: id, outputs: applied });
      // After apply, look again at once.
      check = await attempt(() => step.type.check(params, ctx));
    }
    while (!check.done) check = await lookAgain();
    return { summary: check.summary ?? 'done', outputs: { ...applied, ...(check.outputs ?? {}) }, alreadyDone: false };
  } finally {
    await cleanup();
  }
}
