/**
 * JUnit XML for `run --junit FILE` and `plan --junit FILE`: one <testcase> per step, which GitLab
 * (artifacts:reports:junit), Jenkins (junit step), Azure Pipelines (PublishTestResults) and
 * CircleCI (store_test_results) all show as test results. Like the GitHub job summary it is fed by
 * the run's events and written at the end from the run as saved, which never holds a secret.
 * The layout follows the schema Jenkins' xUnit plugin validates JUnit files against
 * (junit-10.xsd; the tests fetch it with scripts/junit-schema.mjs).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RunEvent } from '../engine/events.js';
import type { PlanResult } from '../engine/plan.js';
import type { RunState, StepState } from '../state/run-state.js';
import { xmlAttr, xmlText } from '../util/xml.js';
import { stepDurationMs } from './report.js';

/** One <testcase>: a step and its outcome. */
export interface JunitCase {
  name: string;
  classname: string;
  timeMs?: number;
  outcome:
    | { kind: 'passed' }
    | { kind: 'failed'; message: string; type: string; details: string }
    | { kind: 'error'; message: string; type: string; details: string }
    | { kind: 'skipped'; message: string };
  /** What the step said (its summary), shown beside the test in most CI systems. */
  output?: string;
}

/** One <testsuite>: a run (or a plan) of one playbook. */
export interface JunitSuite {
  name: string;
  timestamp: Date;
  timeMs: number;
  properties: [string, string][];
  cases: JunitCase[];
}

/** "1.234": seconds, as JUnit's time attributes want them (the schema allows no exponent or sign). */
function seconds(ms: number | undefined): string {
  return (Math.max(0, ms ?? 0) / 1000).toFixed(3);
}

/** The JUnit XML of one suite, wrapped in <testsuites>. */
export function renderJunit(suite: JunitSuite): string {
  const count = (kind: JunitCase['outcome']['kind']) => suite.cases.filter((c) => c.outcome.kind === kind).length;
  const totals = `tests="${suite.cases.length}" failures="${count('failed')}" errors="${count('error')}"`;
  const time = seconds(suite.timeMs);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="migrate" ${totals} time="${time}">`,
    `  <testsuite name="${xmlAttr(suite.name)}" ${totals} skipped="${count('skipped')}" time="${time}" timestamp="${suite.timestamp.toISOString().replace(/\.\d{3}Z$/, 'Z')}" hostname="${xmlAttr(os.hostname())}">`,
    '    <properties>',
    ...suite.properties.map(([name, value]) => `      <property name="${xmlAttr(name)}" value="${xmlAttr(value)}"/>`),
    '    </properties>',
  ];
  for (const c of suite.cases) {
    const open = `    <testcase classname="${xmlAttr(c.classname)}" name="${xmlAttr(c.name)}" time="${seconds(c.timeMs)}"`;
    const body: string[] = [];
    const o = c.outcome;
    if (o.kind === 'failed' || o.kind === 'error') {
      const tag = o.kind === 'failed' ? 'failure' : 'error';
      body.push(`      <${tag} message="${xmlAttr(o.message)}" type="${xmlAttr(o.type)}">${xmlText(o.details)}</${tag}>`);
    } else if (o.kind === 'skipped') body.push(`      <skipped message="${xmlAttr(o.message)}"/>`);
    if (c.output) body.push(`      <system-out>${xmlText(c.output)}</system-out>`);
    lines.push(body.length ? `${open}>\n${body.join('\n')}\n    </testcase>` : `${open}/>`);
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

/** How one invocation of `migrate run` ended, as run.finished and the outcome tell it. */
interface Ending {
  status: string;
  step?: string;
  durationMs?: number;
}

/**
 * The suite of a run: every step of the run as saved, with what this invocation saw. A failed
 * step carries its chain of causes; a step not reached says why (the failure, the gate, Ctrl-C).
 */
export function runSuite(state: RunState, o: { startedAt: Date; ending?: Ending; continueWith?: string; failureType?: string }): JunitSuite {
  const ending = o.ending ?? { status: state.status };
  const stoppedAt = ending.step ?? state.pausedAt;
  const cases = state.steps.map((st): JunitCase => {
    const timeMs = stepDurationMs(state, st) ?? failedAfterMs(state, st);
    const base = { name: st.id, classname: state.playbook.name, ...(timeMs !== undefined ? { timeMs } : {}) };
    const output = st.summary ? { output: st.summary } : {};
    switch (st.status) {
      case 'done':
        return { ...base, outcome: { kind: 'passed' }, ...output };
      case 'failed': {
        const message = st.error?.message ?? st.summary ?? 'failed';
        const details = [message, ...(st.error?.causes ?? []).map((c) => `caused by: ${c}`)].join('\n');
        return { ...base, outcome: { kind: 'failed', message, type: o.failureType ?? 'StepFailedError', details } };
      }
      case 'skipped':
        return { ...base, outcome: { kind: 'skipped', message: st.skip ? `skipped by ${st.skip.by}: ${st.skip.reason}` : (st.summary ?? 'skipped') } };
      default:
        return { ...base, outcome: { kind: 'skipped', message: notReached(st, ending, stoppedAt, o.continueWith) } };
    }
  });
  const properties: [string, string][] = [
    ['run', state.name],
    ['playbook', state.playbook.name],
    ['playbook.file', state.playbook.file],
    ['status', ending.status],
    ...(stoppedAt ? ([['stopped at', stoppedAt]] as [string, string][]) : []),
    ...Object.entries(state.params).map(([k, v]): [string, string] => [`param.${k}`, v]),
  ];
  const stepsMs = cases.reduce((sum, c) => sum + (c.timeMs ?? 0), 0);
  return { name: state.name, timestamp: o.startedAt, timeMs: ending.durationMs ?? stepsMs, properties, cases };
}

/** A failed step records no finish: it took from its start to its last step.failed. */
function failedAfterMs(state: RunState, st: StepState): number | undefined {
  const failed = st.status === 'failed' && st.startedAt ? state.history.findLast((h) => h.type === 'step.failed' && h.step === st.id) : undefined;
  const ms = failed && st.startedAt ? Date.parse(failed.at) - Date.parse(st.startedAt) : NaN;
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

function notReached(st: StepState, ending: Ending, stoppedAt: string | undefined, continueWith: string | undefined): string {
  if (st.status === 'waiting' || (ending.status === 'paused' && stoppedAt === st.id)) {
    return `waiting for approval at this gate${continueWith ? `; continue with: ${continueWith}` : ''}`;
  }
  if (ending.status === 'interrupted' && stoppedAt === st.id) return 'interrupted during this step; state saved, run the same command again to resume';
  const why: Record<string, string> = {
    failed: `the run failed at ${stoppedAt ?? 'an earlier step'}`,
    paused: `the run is paused at gate ${stoppedAt ?? '?'}`,
    interrupted: `the run was interrupted at ${stoppedAt ?? 'start-up'}`,
  };
  return `not reached: ${why[ending.status] ?? `the run is ${ending.status}`}`;
}

/** The suite of a plan: satisfied, would act and would wait pass; drift fails; a step that could not be checked is skipped. */
export function planSuite(plan: PlanResult, o: { startedAt: Date; timeMs: number }): JunitSuite {
  const cases = plan.steps.map((s): JunitCase => {
    const base = { name: s.id, classname: plan.playbook, output: `${s.verdict}: ${s.reason}` };
    if (s.verdict === 'drift') {
      const details = [s.reason, ...(s.differences ?? [])].join('\n');
      return { ...base, outcome: { kind: 'failed', message: s.reason, type: 'drift', details } };
    }
    if (s.verdict === 'cannot check') return { ...base, outcome: { kind: 'skipped', message: `cannot check: ${s.reason}` } };
    return { ...base, outcome: { kind: 'passed' } };
  });
  const properties: [string, string][] = [
    ['playbook', plan.playbook],
    ['status', plan.interrupted ? 'interrupted' : 'planned'],
    ...Object.entries(plan.params).map(([k, v]): [string, string] => [`param.${k}`, v]),
  ];
  return { name: `plan ${plan.playbook}`, timestamp: o.startedAt, timeMs: o.timeMs, properties, cases };
}

/** The suite of a run that ended in an error instead of an outcome (bad input, a locked run): one test in error. */
export function runErrorSuite(playbook: string, err: unknown, startedAt: Date): JunitSuite {
  const message = err instanceof Error ? err.message : String(err);
  const hint = (err as { hint?: unknown }).hint;
  const details = typeof hint === 'string' ? `${message}\nhint: ${hint}` : message;
  const type = err instanceof Error ? err.name : 'Error';
  return { name: playbook, timestamp: startedAt, timeMs: 0, properties: [['playbook', playbook], ['status', 'error']], cases: [{ name: 'run', classname: playbook, outcome: { kind: 'error', message, type, details } }] };
}

/** Collects what `migrate run` reports and writes the JUnit file when the run ends. */
export class JunitReport {
  private readonly startedAt: Date;
  private ending: Ending | undefined;
  private continueWith: string | undefined;

  constructor(
    /** The file to write (relative to cwd). */
    private readonly file: string,
    private readonly cwd: string,
    /** Where a failure to write is reported (it never changes the exit code). */
    private readonly warn: (line: string) => void,
    now: () => Date = () => new Date(),
  ) {
    this.startedAt = now();
  }

  event(e: RunEvent): void {
    if (e.type === 'gate.waiting') this.continueWith = e.continueWith;
    if (e.type === 'run.finished') this.ending = { status: e.status, durationMs: e.durationMs, ...(e.step ? { step: e.step } : {}) };
  }

  /** Writes the run's suite; `failureType` names the error a failed step ended with. */
  async finish(state: RunState, failureType?: string): Promise<void> {
    await this.write(runSuite(state, { startedAt: this.startedAt, ...(this.ending ? { ending: this.ending } : {}), ...(this.continueWith ? { continueWith: this.continueWith } : {}), ...(failureType ? { failureType } : {}) }));
  }

  /** Writes one test in error: the run ended in an error, not an outcome (it may never have started). */
  async error(playbook: string, err: unknown): Promise<void> {
    await this.write(runErrorSuite(playbook, err, this.startedAt));
  }

  /** Writes a suite; a file that cannot be written is a warning only. */
  async write(suite: JunitSuite): Promise<void> {
    await writeJunit(this.file, this.cwd, suite, this.warn);
  }
}

/** Writes a suite to `file` (its folder made if missing); a failure is a warning, never a changed exit code. */
export async function writeJunit(file: string, cwd: string, suite: JunitSuite, warn: (line: string) => void): Promise<void> {
  const target = path.resolve(cwd, file);
  try {
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, renderJunit(suite));
  } catch (err) {
    warn(`warning: could not write the JUnit report to ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
