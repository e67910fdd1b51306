import { loadConfig } from '../config.js';
import { ExitCode } from '../errors.js';
import { planPlaybook, type PlanResult } from '../engine/plan.js';
import { parseParamArgs } from '../playbook/bind.js';
import { loadStepTypes } from '../steps/plugins.js';
import { paint } from '../ui/paint.js';
import { planJson, renderPlan } from '../ui/plan-view.js';
import { planSuite, runErrorSuite, writeJunit } from '../ui/junit.js';
import type { CommonOptions, FlagsOf, Interruptible } from './options.js';

/** Options of `migrate plan`, as commander hands them over. */
export interface PlanCommandOptions extends CommonOptions, Interruptible, FlagsOf<'plan'> {}

/** `migrate plan <playbook>`: what each step would do, from one live, read-only check of each. */
export async function planCommand(playbook: string, o: PlanCommandOptions): Promise<number> {
  const startedAt = new Date();
  const warn = (line: string) => process.stderr.write(line + '\n');
  const result = await plan(playbook, o).catch(async (err: unknown) => {
    // Bad input still leaves a JUnit file that says so, as run does.
    if (o.junit) await writeJunit(o.junit, o.cwd, runErrorSuite(playbook, err, startedAt), warn);
    throw err;
  });
  if (o.junit) await writeJunit(o.junit, o.cwd, planSuite(result, { startedAt, timeMs: Date.now() - startedAt.getTime() }), warn);
  o.out.write(o.json ? JSON.stringify(planJson(result)) + '\n' : renderPlan(result, paint(o.color)));
  return result.interrupted ? ExitCode.interrupted : ExitCode.completed;
}

/** Loads the config and its plugins, then plans. */
async function plan(playbook: string, o: PlanCommandOptions): Promise<PlanResult> {
  // No --state-dir: a plan reads and writes no run state.
  const config = await loadConfig({ cwd: o.cwd, configPath: o.config });
  return planPlaybook({ playbook, stepTypes: await loadStepTypes(config.plugins, o.cwd), cwd: o.cwd, config, params: parseParamArgs(o.param), signal: o.signal });
}
