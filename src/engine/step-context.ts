import type { BoundPlaybook, BoundStep } from '../playbook/bind.js';
import { expandDeep, type TemplateValues } from '../playbook/template.js';
import type { RunState } from '../state/run-state.js';
import type { Progress, StepContext } from '../steps/contract.js';
import type { Services } from './services.js';

/** What one execution of a step sees; `cleanup()` runs what the step deferred, last first. */
export function stepContext(o: {
  run: string;
  step: string;
  signal: AbortSignal;
  services: Services;
  now: () => number;
  progress?: (p: Progress) => void;
  /** When the step's timeout runs out, for work the step must stop by then itself. */
  deadline?: number;
}): { ctx: StepContext; cleanup(): Promise<void> } {
  const deferred: (() => Promise<void>)[] = [];
  const ctx: StepContext = {
    run: o.run,
    step: o.step,
    signal: o.signal,
    cwd: o.services.cwd,
    kafka: o.services.kafka,
    flags: o.services.flags,
    flagEvaluator: o.services.flagEvaluator ?? (() => Promise.resolve(undefined)),
    schemas: o.services.schemas,
    memory: {},
    now: o.now,
    progress: o.progress ?? (() => undefined),
    defer: (fn) => deferred.push(fn),
    ...(o.deadline !== undefined ? { deadline: o.deadline } : {}),
  };
  const cleanup = async () => {
    for (const fn of deferred.splice(0).reverse()) await fn().catch(() => undefined);
  };
  return { ctx, cleanup };
}

/**
 * The step's params: validated before the run, or now when they read outputs of earlier steps. The
 * params and env they read are the bound playbook's (the state keeps neither env nor secret values).
 */
export function stepParams(step: BoundStep, state: RunState, bound: Pick<BoundPlaybook, 'params' | 'env'>): unknown {
  if (step.params !== undefined) return step.params;
  return step.type.params.parse(expandDeep(step.spec.with ?? {}, { ...runValues(state), params: bound.params, env: bound.env }));
}

/** What ${{ }} lookups see in a run: its params and the outputs its steps recorded (no env: the state keeps none). */
export function runValues(state: RunState): TemplateValues {
  return { params: state.params, env: {}, steps: Object.fromEntries(state.steps.map((s) => [s.id, { outputs: s.outputs ?? {} }])) };
}
