import type { Config } from '../config.js';
import { PlaybookChangedError, UsageError, type MigrateError } from '../errors.js';
import { paramsChecksum, publicParams, type BoundPlaybook } from '../playbook/bind.js';
import type { RunState, StepState } from '../state/run-state.js';
import type { RunStore } from '../state/store.js';
import type { StepTypes } from '../steps/contract.js';
import { assertRunName } from '../state/run-name.js';
import type { EventSink } from './events.js';
import { executeRun, type ExecuteOutcome, type GateQuestion } from './execute.js';
import { sleep } from '../util/time.js';
import { withRun } from './with-run.js';

/** A step to mark skipped instead of running it (--skip STEP --reason "..."). */
export interface SkipRequest {
  step: string;
  reason: string;
}

/** What `migrate run` asks of the engine. */
export interface RunPlaybookOptions {
  /** A playbook name or path. */
  playbook: string;
  /** The step types playbooks may use: the built-ins and the configured plugins (steps/plugins.ts). */
  stepTypes: StepTypes;
  cwd: string;
  config: Config;
  store: RunStore;
  params: Record<string, string>;
  name?: string | undefined;
  approve?: readonly string[];
  /** Steps to mark skipped, each with the reason a person gave. */
  skip?: readonly SkipRequest[];
  yes?: boolean;
  allowChanged?: boolean;
  emit: EventSink;
  signal: AbortSignal;
  askGate?: ((q: GateQuestion) => Promise<boolean>) | undefined;
  /** Extra arguments to repeat in the "continue with" command (e.g. --state-dir). */
  continueArgs?: readonly string[];
  env?: Record<string, string | undefined>;
  retryBaseMs?: number;
  /**
   * --wait-approval: at a gate, instead of ending paused, wait up to this long (ms) for the gate to
   * be decided in the store (the dashboard), then resume. The lock is released while waiting.
   */
  waitApprovalMs?: number;
}

/** The result of one `migrate run`. */
export interface RunPlaybookResult {
  run: string;
  outcome: ExecuteOutcome;
  state: RunState;
}

/** How often a run waiting for an approval made elsewhere reads its state again. */
const APPROVAL_POLL_MS = 1000;

/**
 * Loads and binds the playbook, takes the run's lock, creates or resumes its state, and runs it.
 * With waitApprovalMs, a run that pauses at a gate waits, without the lock, for someone to decide
 * the gate in the store, and resumes; it ends paused when the time is up, interrupted on Ctrl-C.
 */
export async function runPlaybook(o: RunPlaybookOptions): Promise<RunPlaybookResult> {
  const deadline = Date.now() + (o.waitApprovalMs ?? 0);
  for (;;) {
    const result = await runOnce(o);
    if (result.outcome.status !== 'paused' || !o.waitApprovalMs) return result;
    const gate = result.outcome.step;
    const decided = await awaitDecision(o.store, result.run, gate, deadline, o.signal);
    if (decided === 'timeout') return result;
    if (decided === 'interrupted') return { ...result, outcome: { status: 'interrupted', step: gate } };
    o = { ...o, name: result.run };
  }
}

/** Reads the run's state until the gate is no longer waiting and no process drives the run. */
async function awaitDecision(store: RunStore, name: string, gate: string, deadline: number, signal: AbortSignal): Promise<'decided' | 'timeout' | 'interrupted'> {
  const release = store.keepOpen?.();
  try {
    return await pollDecision(store, name, gate, deadline, signal);
  } finally {
    await release?.();
  }
}

async function pollDecision(store: RunStore, name: string, gate: string, deadline: number, signal: AbortSignal): Promise<'decided' | 'timeout' | 'interrupted'> {
  for (;;) {
    const now = Date.now();
    if (now >= deadline) return 'timeout';
    try {
      await sleep(Math.min(APPROVAL_POLL_MS, deadline - now), signal);
    } catch {
      return 'interrupted';
    }
    const state = await store.read(name);
    const st = state?.steps.find((s) => s.id === gate);
    if (state && st && st.status !== 'waiting' && state.status !== 'running') return 'decided';
  }
}

async function runOnce(o: RunPlaybookOptions): Promise<RunPlaybookResult> {
  return withRun(
    {
      cwd: o.cwd,
      config: o.config,
      env: o.env,
      playbook: o.playbook,
      stepTypes: o.stepTypes,
      // A named run that exists already knows its params: resuming needs only --name.
      params: async () => ({ ...storedParams(o.name ? await o.store.read(assertRunName(o.name)) : undefined), ...o.params }),
      validate: (bound) => {
        const requireStep = (option: string, id: string) => {
          if (!bound.steps.some((s) => s.spec.id === id)) {
            throw new UsageError(`${option} ${id}: the playbook has no step "${id}"`, `its steps: ${bound.steps.map((s) => s.spec.id).join(', ')}`);
          }
        };
        for (const gate of o.approve ?? []) requireStep('--approve', gate);
        for (const { step, reason } of o.skip ?? []) {
          requireStep('--skip', step);
          if (!reason.trim()) throw new UsageError(`--skip ${step}: the --reason is empty`, 'say why the step is skipped: --skip STEP --reason "..."');
        }
      },
      lock: { store: o.store, name: (bound) => assertRunName(o.name ?? defaultRunName(bound)) },
    },
    async ({ bound, services, mask, name, store }) => {
      // Secret values never reach output, even when a step repeats one in a summary.
      const emit: EventSink = (e) => o.emit(mask(e));
      const state = reconcile(await o.store.read(name), bound, name, Boolean(o.allowChanged));
      const stepList = bound.steps.map((s, i) => {
        const st = state.steps[i];
        return {
          id: s.spec.id,
          title: s.title,
          status: st?.status ?? 'pending',
          ...(st?.summary ? { summary: st.summary } : {}),
          ...(s.type.gate ? {} : { timeoutMs: s.spec.timeout ?? s.type.timeoutMs }),
        };
      });
      emit({ type: 'run.started', run: name, playbook: bound.loaded.spec.name, resumed: state.steps.some((s) => s.attempts > 0), steps: state.steps.length, stepList });
      const outcome = await executeRun({
        bound,
        state,
        store,
        emit,
        signal: o.signal,
        approve: new Set(o.approve ?? []),
        skip: new Map((o.skip ?? []).map((s) => [s.step, s.reason])),
        yes: Boolean(o.yes),
        ...(o.askGate ? { askGate: o.askGate } : {}),
        ...(o.retryBaseMs !== undefined ? { retryBaseMs: o.retryBaseMs } : {}),
        services,
        continueCommand: (gate) =>
          ['migrate run', quoteArg(o.playbook), '--name', quoteArg(name), ...(o.continueArgs ?? []).map(quoteArg), '--approve', quoteArg(gate)].join(' '),
      });
      return { run: name, outcome, state: mask(state) };
    },
  );
}

/** playbook name, plus the topic when the playbook has one: "sync-to-async-orders". */
export function defaultRunName(bound: BoundPlaybook): string {
  const topic = bound.params.topic;
  return topic ? `${bound.loaded.spec.name}-${topic}` : bound.loaded.spec.name;
}

/** A run's stored params, without the masked secrets (those must be given again). */
export function storedParams(state: RunState | undefined): Record<string, string> {
  if (!state) return {};
  return Object.fromEntries(Object.entries(state.params).filter(([, v]) => v !== '***'));
}

/** A new state, or the stored one checked against the playbook and params it was started with. */
function reconcile(existing: RunState | undefined, bound: BoundPlaybook, name: string, allowChanged: boolean): RunState {
  const now = new Date().toISOString();
  const params = publicParams(bound);
  const fresh = (id: string, uses: string): StepState => ({ id, uses, status: 'pending', attempts: 0 });
  if (!existing) {
    return {
      version: 1,
      name,
      playbook: { name: bound.loaded.spec.name, ref: bound.loaded.ref, file: bound.loaded.file, checksum: bound.loaded.checksum },
      params,
      paramsChecksum: paramsChecksum(params),
      status: 'running',
      createdAt: now,
      updatedAt: now,
      steps: bound.steps.map((s) => fresh(s.spec.id, s.spec.uses)),
      history: [],
    };
  }
  // A rolled-back run is not finished: running it again rolls forward, so it is checked like any other.
  if (existing.status === 'completed') return existing;
  if (!allowChanged) {
    if (existing.playbook.checksum !== bound.loaded.checksum) throw new PlaybookChangedError(name, 'playbook') as MigrateError;
    if (existing.paramsChecksum !== paramsChecksum(params)) {
      const changed = Object.keys({ ...existing.params, ...params }).filter((k) => existing.params[k] !== params[k]);
      throw new PlaybookChangedError(name, `params (${changed.join(', ')})`);
    }
  }
  // With --allow-changed, keep what each surviving step did; new steps start pending.
  const byId = new Map(existing.steps.map((s) => [s.id, s]));
  return {
    ...existing,
    playbook: { ...existing.playbook, checksum: bound.loaded.checksum, file: bound.loaded.file },
    params,
    paramsChecksum: paramsChecksum(params),
    steps: bound.steps.map((s) => byId.get(s.spec.id) ?? fresh(s.spec.id, s.spec.uses)),
  };
}

/** An argument as a POSIX shell reads it back, for commands printed to be copied. */
export function quoteArg(arg: string): string {
  return /^[A-Za-z0-9@%_+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
