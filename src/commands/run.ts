import type { Writable } from 'node:stream';
import { loadConfig } from '../config.js';
import { ExitCode, MigrateError, UsageError } from '../errors.js';
import { runPlaybook, storedParams, type SkipRequest } from '../engine/run-playbook.js';
import { parseParamArgs } from '../playbook/bind.js';
import { loadPlaybook } from '../playbook/load.js';
import { loadStepTypes } from '../steps/plugins.js';
import { isValidRunName } from '../state/run-name.js';
import { openRunStore } from '../state/open-store.js';
import type { RunStore } from '../state/store.js';
import type { StepTypes } from '../steps/contract.js';
import { createRenderer } from '../ui/render.js';
import { askParams, canPrompt, withGatePrompts } from '../ui/prompt.js';
import { wantsLiveView } from '../ui/live.js';
import { githubActionsRenderer } from '../ui/github.js';
import { webhookNotifier } from '../ui/notify.js';
import { parseDuration } from '../util/time.js';
import { JunitReport } from '../ui/junit.js';
import type { CommonOptions, FlagsOf, Interruptible } from './options.js';

/** Options of `migrate run`, as commander hands them over. */
export interface RunCommandOptions extends CommonOptions, Interruptible, FlagsOf<'run'> {
  /** Warnings (a notification not sent); process.stderr by default. */
  err?: Writable;
  /** GITHUB_ACTIONS, GITHUB_STEP_SUMMARY; process.env by default. */
  env?: Record<string, string | undefined>;
}

const exitCodes = {
  completed: ExitCode.completed,
  paused: ExitCode.paused,
  failed: ExitCode.failed,
  interrupted: ExitCode.interrupted,
} as const;

/** `migrate run <playbook>`: runs or resumes a run and returns the exit code. */
export async function runCommand(playbook: string, o: RunCommandOptions): Promise<number> {
  const err = o.err ?? process.stderr;
  const junit = o.junit ? new JunitReport(o.junit, o.cwd, (line) => err.write(line + '\n')) : undefined;
  try {
    return await runAndReport(playbook, o, err, junit);
  } catch (error) {
    // A run that ends in an error rather than an outcome (bad input, a locked run) still leaves a JUnit file saying so.
    await junit?.error(o.name ?? playbook, error);
    throw error;
  }
}

async function runAndReport(playbook: string, o: RunCommandOptions, err: Writable, junit: JunitReport | undefined): Promise<number> {
  const skip = skipRequests(o.skip ?? [], o.reason ?? []);
  const config = await loadConfig({ cwd: o.cwd, configPath: o.config, stateDir: o.stateDir });
  const stepTypes = await loadStepTypes(config.plugins, o.cwd);
  // At a terminal: a live step list, and gates asked with the evidence the run gathered so far.
  const live = !o.json && wantsLiveView(o.out as { isTTY?: boolean }, o.color);
  const renderer = withGatePrompts(createRenderer({ json: o.json, out: o.out, color: o.color, live }), { signal: o.signal, transient: live });
  // Fed by the same events: GitHub Actions annotations and job summary (stderr under --json keeps stdout NDJSON), a webhook.
  const github = githubActionsRenderer(o.env ?? process.env, o.json ? err : o.out, err);
  const notifier = webhookNotifier(o.notify ?? config.notify?.webhook, err);
  const interactive = !o.json && canPrompt();
  const continueArgs = [...(o.stateDir ? ['--state-dir', o.stateDir] : []), ...(o.config ? ['--config', o.config] : [])];
  const store = openRunStore(config, { waitLock: o.waitLock, signal: o.signal });
  // At a terminal the gate is asked there; --wait-approval is for runs nobody can ask (CI).
  const waitApproval = o.waitApproval === undefined ? undefined : parseWaitApproval(o.waitApproval);
  const waitApprovalMs = interactive ? undefined : waitApproval;
  const result = await runPlaybook({
    playbook,
    stepTypes,
    cwd: o.cwd,
    config,
    store,
    params: interactive ? await askMissingParams(playbook, stepTypes, o, store, parseParamArgs(o.param)) : parseParamArgs(o.param),
    name: o.name,
    approve: o.approve,
    skip,
    yes: o.yes,
    allowChanged: o.allowChanged,
    emit: (e) => {
      renderer.event(e);
      github?.event(e);
      notifier?.event(e);
      if (waitApprovalMs && e.type === 'gate.waiting' && !o.json) o.out.write(`waiting up to ${o.waitApproval} for ${e.step} to be approved or skipped on migrate dashboard (Ctrl-C to stop)\n`);
      junit?.event(e);
    },
    signal: o.signal,
    askGate: interactive ? (q) => renderer.askGate(q) : undefined,
    continueArgs,
    ...(waitApprovalMs ? { waitApprovalMs } : {}),
  }).finally(() => renderer.close?.());
  await github?.finish(result.state);
  await notifier?.flush();
  const outcome = result.outcome;
  await junit?.finish(result.state, outcome.status === 'failed' ? failureType(outcome.error) : undefined);
  // Bad input met inside a step (a malformed flag or schema file) is still bad input: exit 2.
  if (outcome.status === 'failed' && outcome.error.cause instanceof MigrateError) return outcome.error.cause.exitCode;
  return exitCodes[outcome.status];
}

/**
 * At a terminal, params the playbook requires and nobody gave (on the command line, or stored with
 * the run being resumed) are asked for instead of failing; the playbook still validates them all.
 */
async function askMissingParams(playbook: string, stepTypes: StepTypes, o: RunCommandOptions, store: RunStore, given: Record<string, string>): Promise<Record<string, string>> {
  const loaded = await loadPlaybook(playbook, o.cwd, stepTypes);
  const stored = o.name && isValidRunName(o.name) ? storedParams(await store.read(o.name)) : {};
  const missing = Object.entries(loaded.spec.params ?? {}).filter(
    ([name, p]) => p.required && p.default === undefined && !Object.hasOwn(given, name) && !Object.hasOwn(stored, name),
  );
  if (!missing.length) return given;
  const answers = await askParams(
    missing.map(([name, p]) => ({ name, description: p.description, choices: p.enum?.map(String), secret: p.secret })),
    { playbook: loaded.spec.name, signal: o.signal },
  );
  return { ...given, ...answers };
}

function parseWaitApproval(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`--wait-approval: "${text}" is not a duration`, 'e.g. --wait-approval 30m');
  return ms;
}

/** What a failed step's JUnit <failure type> names: the error the step met (a timeout, a refused request), not the wrapper. */
function failureType(error: MigrateError): string {
  const cause = error.cause;
  if (cause instanceof Error && cause.name !== 'Error') return cause.name;
  return cause instanceof Error && cause.message.startsWith('timed out') ? 'timeout' : error.name;
}

/** Pairs each --skip with the --reason given for it, in order; a skip without a reason is a usage error. */
export function skipRequests(steps: readonly string[], reasons: readonly string[]): SkipRequest[] {
  if (reasons.length > steps.length) throw new UsageError(`--reason "${reasons[steps.length]}" follows no --skip`, 'use them in pairs: --skip STEP --reason "why"');
  return steps.map((step, i) => {
    const reason = reasons[i]?.trim();
    if (!reason) {
      throw new UsageError(`--skip ${step} needs a --reason: a skipped step is recorded with who skipped it and why`, `--skip ${step} --reason "why it is safe to skip"`);
    }
    return { step, reason };
  });
}
