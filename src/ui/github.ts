/**
 * GitHub Actions output for `migrate run`, fed by the same events as the other renderers:
 * workflow commands (::error, ::warning, ::notice) that annotate the job, and a Markdown job
 * summary appended to $GITHUB_STEP_SUMMARY.
 * https://docs.github.com/actions/reference/workflow-commands-for-github-actions
 */
import { appendFile } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { RunEvent } from '../engine/events.js';
import { formatProblem, InvalidInputError, MigrateError } from '../errors.js';
import type { RunState, StepState } from '../state/run-state.js';
import { formatDuration } from '../util/time.js';
import { stepDurationMs } from './report.js';
import { mdBlock, mdCell, mdCode, mdCodeCell, mdTable } from './report-markdown.js';

/** Escapes a workflow command's message, as the runner unescapes it. */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a workflow command's property value (title=...): also ":" and ",", which separate properties. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** One workflow command line: `::error title=create-topic::message`. */
export function workflowCommand(command: 'error' | 'warning' | 'notice', title: string, message: string): string {
  return `::${command} title=${escapeProperty(title)}::${escapeData(message)}\n`;
}

/**
 * Annotations for an error that ended the command before a run could start: one per problem of
 * bad input, on its file and line (GitHub shows it beside the line in the pull request), else one
 * with the message and hint.
 */
export function errorAnnotations(err: unknown, exitCode: number): string {
  const title = `migrate (exit ${exitCode})`;
  if (err instanceof InvalidInputError && err.problems.length) {
    return err.problems
      .map((p) => {
        const where = [`file=${escapeProperty(p.file)}`, ...(p.line ? [`line=${p.line}`] : []), ...(p.col ? [`col=${p.col}`] : [])].join(',');
        return `::error ${where},title=${escapeProperty(title)}::${escapeData(formatProblem(p))}\n`;
      })
      .join('');
  }
  if (err instanceof MigrateError) return workflowCommand('error', title, err.message + (err.hint ? ` (${err.hint})` : ''));
  return workflowCommand('error', title, `this is a bug in migrate: ${err instanceof Error ? err.message : String(err)}`);
}

/** What one step did during this invocation, as the events told it. */
interface StepSeen {
  status: StepState['status'];
  durationMs?: number;
  summary?: string;
}

/** How the invocation ended, from run.finished. */
interface Finished {
  status: string;
  step?: string;
  durationMs: number;
}

/** Prints workflow commands as events arrive and writes the job summary at the end. */
export class GithubActionsRenderer {
  private run = '';
  private playbook = '';
  private readonly steps = new Map<string, StepSeen>();
  private readonly order: string[] = [];
  private continueWith: string | undefined;
  private finished: Finished | undefined;

  constructor(
    /** Where workflow commands go: stdout, or stderr when stdout carries --json. */
    private readonly out: Writable,
    /** $GITHUB_STEP_SUMMARY: the file the job summary is appended to. */
    private readonly summaryFile: string | undefined,
    /** Where a failure to write the summary is reported (it never fails the run). */
    private readonly warn: (line: string) => void,
  ) {}

  event(e: RunEvent): void {
    switch (e.type) {
      case 'run.started':
        this.run = e.run;
        this.playbook = e.playbook;
        break;
      case 'step.started':
        this.see(e.step, { status: 'running' });
        break;
      case 'step.retry':
        this.out.write(workflowCommand('warning', e.step, `${e.error}; retry ${e.retry} in ${formatDuration(e.delayMs)}`));
        break;
      case 'step.skipped':
        this.see(e.step, { status: 'skipped', summary: `skipped by ${e.by}: ${e.reason}` });
        break;
      case 'step.done':
        this.see(e.step, { status: 'done', durationMs: e.durationMs, summary: e.summary + (e.alreadyDone ? ' (already satisfied)' : '') });
        break;
      case 'step.failed': {
        this.see(e.step, { status: 'failed', summary: e.error });
        const causes = e.causes.map((c) => `\ncaused by: ${c}`).join('');
        this.out.write(workflowCommand('error', e.step, `${e.error}${causes}\nFix the cause and run the same command again to resume.`));
        break;
      }
      case 'gate.waiting':
        this.see(e.step, { status: 'waiting', summary: e.message });
        this.continueWith = e.continueWith;
        this.out.write(workflowCommand('notice', e.step, `Run ${e.run} is waiting for approval: ${e.message}\nContinue with: ${e.continueWith}`));
        break;
      case 'run.finished':
        this.finished = { status: e.status, durationMs: e.durationMs, ...(e.step ? { step: e.step } : {}) };
        if (e.status === 'completed') this.out.write(workflowCommand('notice', e.run, `Run ${e.run} completed in ${formatDuration(e.durationMs)}`));
        if (e.status === 'interrupted') this.out.write(workflowCommand('warning', e.run, `Run ${e.run} was interrupted during ${e.step ?? 'start-up'}; state saved, run the same command again to resume`));
        break;
      default:
        break;
    }
  }

  /** The job summary, in Markdown; `state` (the run as saved) adds the steps this invocation did not touch. */
  summary(state?: RunState): string {
    const f = this.finished;
    const run = state?.name ?? this.run;
    const status = f?.status ?? state?.status ?? 'unknown';
    const at = f?.step ? ` at ${mdCode(f.step)}` : '';
    const lines = [`### migrate: run ${mdCode(run)} ${status}${at}\n\n`];
    const facts: [string, string][] = [
      ['Run', mdCodeCell(run)],
      ['Playbook', mdCodeCell(state?.playbook.name ?? this.playbook)],
      ['Status', `${statusIcon(status)} ${mdCell(status)}${f?.step ? ` (${mdCodeCell(f.step)})` : ''}`],
    ];
    if (f) facts.push(['Took', formatDuration(f.durationMs)]);
    lines.push(mdTable(['', ''], facts.map(([k, v]) => [`**${k}**`, v])));

    const ids = state ? state.steps.map((s) => s.id) : this.order;
    const rows = ids.map((id) => {
      const seen = this.steps.get(id);
      const saved = state?.steps.find((s) => s.id === id);
      const stepStatus = seen?.status ?? saved?.status ?? 'pending';
      const ms = seen?.durationMs ?? (state && saved ? stepDurationMs(state, saved) : undefined);
      const summary = seen?.summary ?? saved?.summary ?? saved?.error?.message ?? '';
      return [mdCodeCell(id), `${statusIcon(stepStatus)} ${stepStatus}`, ms === undefined ? '' : formatDuration(ms), mdCell(summary)];
    });
    if (rows.length) lines.push('\n' + mdTable(['Step', 'Status', 'Duration', 'Summary'], rows));
    if (status === 'paused' && this.continueWith) lines.push(`\nContinue with:\n\n${mdBlock(this.continueWith, 'sh')}`);
    return lines.join('') + '\n';
  }

  /** Appends the job summary to $GITHUB_STEP_SUMMARY, when set. A failure to write is a warning only. */
  async finish(state?: RunState): Promise<void> {
    if (!this.summaryFile) return;
    try {
      await appendFile(this.summaryFile, this.summary(state));
    } catch (err) {
      this.warn(`warning: could not write the GitHub job summary to ${this.summaryFile}: ${(err as Error).message}`);
    }
  }

  private see(id: string, seen: StepSeen): void {
    if (!this.steps.has(id)) this.order.push(id);
    this.steps.set(id, { ...this.steps.get(id), ...seen });
  }
}

function statusIcon(status: string): string {
  const icons: Record<string, string> = { done: '✅', completed: '✅', failed: '❌', waiting: '⏸️', paused: '⏸️', running: '🔄', pending: '⚪', skipped: '⏭️', interrupted: '⚠️' };
  return icons[status] ?? '';
}

/** A renderer when running in GitHub Actions (GITHUB_ACTIONS=true), else undefined. */
export function githubActionsRenderer(
  env: Record<string, string | undefined>,
  out: Writable,
  err: Writable,
): GithubActionsRenderer | undefined {
  if (env.GITHUB_ACTIONS !== 'true') return undefined;
  return new GithubActionsRenderer(out, env.GITHUB_STEP_SUMMARY || undefined, (line) => err.write(line + '\n'));
}
