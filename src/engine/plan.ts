import type { Config } from '../config.js';
import { DriftError } from '../errors.js';
import { publicParams, type BoundPlaybook, type BoundStep } from '../playbook/bind.js';
import { expandDeep, UnresolvedTemplateError } from '../playbook/template.js';
import { stepProvides, type Check, type StepTypes } from '../steps/contract.js';
import { abortable, formatDuration } from '../util/time.js';
import type { Services } from './services.js';
import { stepContext } from './step-context.js';
import { withRun } from './with-run.js';

/** What one look at the world says about a step. */
export const planVerdicts = ['satisfied', 'would act', 'would wait', 'drift', 'cannot check'] as const;
export type PlanVerdict = (typeof planVerdicts)[number];

/** One step of a plan: its verdict and why. */
export interface PlannedStep {
  id: string;
  uses: string;
  title: string;
  verdict: PlanVerdict;
  /** The check's finding, what apply would do, the drift, or why the step could not be checked. */
  reason: string;
  /** drift: each way the world differs from the playbook. */
  differences?: string[];
  /** Earlier steps that are not satisfied yet: this verdict describes the world before they run. */
  after?: string[];
}

/** What `migrate plan` found, step by step, in playbook order. */
export interface PlanResult {
  playbook: string;
  /** The params the plan was made with (secret values masked). */
  params: Record<string, string>;
  steps: PlannedStep[];
  /** Ctrl-C stopped the plan before every step was looked at. */
  interrupted?: boolean;
}

/** What `migrate plan` asks of the engine. */
export interface PlanOptions {
  /** A playbook name or path. */
  playbook: string;
  /** The step types playbooks may use: the built-ins and the configured plugins (steps/plugins.ts). */
  stepTypes: StepTypes;
  cwd: string;
  config: Config;
  params: Record<string, string>;
  signal: AbortSignal;
  env?: Record<string, string | undefined>;
  /** The world to look at; by default the configured services. */
  services?: Services;
  /** How long one check may take before the step counts as "cannot check" (default 30s). */
  checkTimeoutMs?: number;
}

const DEFAULT_CHECK_TIMEOUT_MS = 30_000;

/**
 * `migrate plan`: a read-only live look at every step of a playbook, in order. Runs each step's
 * check once (never apply, undo or a gate), takes no run lock and writes no state.
 */
export async function planPlaybook(o: PlanOptions): Promise<PlanResult> {
  return withRun({ cwd: o.cwd, config: o.config, env: o.env, playbook: o.playbook, stepTypes: o.stepTypes, params: o.params, services: o.services }, async ({ bound, services, mask }) =>
    // A check may repeat a secret in its finding (a probe's URL with ?token=...).
    mask(await planSteps(bound, services, o.signal, o.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS)),
  );
}

/** Looks at each bound step once, in order; outputs of satisfied steps feed the steps that read them. */
export async function planSteps(bound: BoundPlaybook, services: Services, signal: AbortSignal, checkTimeoutMs: number): Promise<PlanResult> {
  const result: PlanResult = { playbook: bound.loaded.spec.name, params: publicParams(bound), steps: [] };
  const outputs: Record<string, { outputs: Record<string, unknown> }> = {};
  for (const step of bound.steps) {
    if (signal.aborted) {
      result.interrupted = true;
      break;
    }
    const { planned, looked } = await planStep(step, bound, outputs, services, signal, checkTimeoutMs);
    if (signal.aborted) {
      result.interrupted = true;
      break;
    }
    // A wait (or a failed look) before earlier steps have run sees today's world, not the one the
    // step will meet: say so. A step that would act makes its own world, so it needs no such note.
    const notYet = result.steps.filter((s) => s.verdict !== 'satisfied').map((s) => s.id);
    if (looked && notYet.length && (planned.verdict === 'would wait' || planned.verdict === 'cannot check')) planned.after = notYet;
    result.steps.push(planned);
  }
  return result;
}

/** A step's verdict; `looked` when it came from a look at the world (a failed look included). */
async function planStep(
  step: BoundStep,
  bound: BoundPlaybook,
  outputs: Record<string, { outputs: Record<string, unknown> }>,
  services: Services,
  signal: AbortSignal,
  checkTimeoutMs: number,
): Promise<{ planned: PlannedStep; looked: boolean }> {
  const id = step.spec.id;
  const base = { id, uses: step.spec.uses, title: step.title };
  const found = (verdict: PlanVerdict, reason: string) => ({ planned: { ...base, verdict, reason }, looked: true });
  const cannot = (reason: string) => ({ planned: { ...base, verdict: 'cannot check' as const, reason }, looked: false });

  if (step.type.gate) return cannot(`a gate: needs a person's approval (at a terminal, or --approve ${id})`);

  let params = step.params;
  if (params === undefined) {
    // The step reads outputs of earlier steps: known only when those steps are satisfied already.
    try {
      params = step.type.params.parse(expandDeep(step.spec.with ?? {}, { params: bound.params, env: bound.env, steps: outputs }));
    } catch (err) {
      if (err instanceof UnresolvedTemplateError) return cannot(`its params read ${err.ref}, an output of an earlier step that has not run`);
      return cannot(`its params read outputs of earlier steps, which do not fit: ${(err as Error).message}`);
    }
  }
  const describe = step.type.describe(params);
  const overTime = step.type.plan?.judgedOverTime;
  if (overTime && !overTime.look) return cannot(`${overTime.why}; it will check: ${describe}`);
  const unsafe = step.type.plan?.unsafeLook?.(params);
  if (unsafe) return cannot(unsafe);

  const timeout = AbortSignal.timeout(checkTimeoutMs);
  const lookSignal = AbortSignal.any([signal, timeout]);
  const { ctx, cleanup } = stepContext({ run: `plan-${bound.loaded.spec.name}`, step: id, signal: lookSignal, services, now: Date.now });
  let check: Check;
  try {
    check = await abortable(step.type.check(params, ctx), lookSignal);
  } catch (err) {
    if (err instanceof DriftError) return { planned: { ...base, verdict: 'drift', reason: err.message, differences: err.differences }, looked: true };
    // An error talking to a service: the look failed, and says why.
    if (timeout.aborted && !signal.aborted) return found('cannot check', `no answer within ${formatDuration(checkTimeoutMs)}`);
    return found('cannot check', err instanceof Error ? err.message : String(err));
  } finally {
    await cleanup();
  }

  if (check.done) {
    outputs[id] = { outputs: check.outputs ?? {} };
    return found('satisfied', check.summary ?? 'satisfied');
  }
  const acts = stepProvides(step.type, params).apply;
  if (acts && !check.wait) return found('would act', `${check.summary}; would apply: ${describe}`);
  if (acts && !check.applied) return found('would wait', `${check.summary}; then would apply: ${describe}`);
  return found('would wait', overTime ? `${check.summary}; ${overTime.why}` : check.summary);
}
