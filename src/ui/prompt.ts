import type { GateQuestion } from '../engine/execute.js';
import { formatDuration } from '../util/time.js';
import { paint, wantsColor, type Painter } from './paint.js';
import { describeMetrics } from './progress.js';
import type { Renderer } from './renderer.js';
import { RunModel, type StepRow } from './run-model.js';
import { fitWidth, wrapText } from './text.js';

/** True when a person can answer: both ends are terminals and this is not CI. */
export function canPrompt(env: Record<string, string | undefined> = process.env): boolean {
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  return Boolean(process.stdin.isTTY && process.stdout.isTTY) && !ci;
}

/** How a gate is put to a person. */
export interface AskGateOptions {
  signal?: AbortSignal;
  /** What the steps before the gate found in this run (summaries, lag, event counts, probe results). */
  evidence?: readonly StepRow[];
  /** Erase the question once answered (the live step list shows the outcome). */
  transient?: boolean;
}

const icons: Record<StepRow['status'], (c: Painter) => string> = {
  pending: (c) => c.dim('○'),
  running: (c) => c.cyan('●'),
  waiting: (c) => c.yellow('⏸'),
  done: (c) => c.green('✓'),
  failed: (c) => c.red('✗'),
  skipped: (c) => c.dim('↷'),
};

/** The block shown above a gate's yes/no question: the step, why it is there, and the evidence so far. */
export function gateBlock(q: GateQuestion, evidence: readonly StepRow[], width: number, c: Painter): string[] {
  const lines = [`${c.yellow('⏸')} ${c.bold(q.step)}${q.title !== q.step ? `  ${c.bold(q.title)}` : ''}`];
  if (q.description) lines.push(...wrapText(q.description, width - 2).map((l) => `  ${l}`));
  if (evidence.length) {
    lines.push(c.dim('  Evidence so far in this run:'));
    const idWidth = Math.max(...evidence.map((r) => r.id.length));
    for (const r of evidence) {
      const how = r.status === 'done' && !r.alreadyDone && r.durationMs ? c.dim(` (${formatDuration(r.durationMs)})`) : '';
      const text = r.status === 'failed' ? c.red(r.error ?? 'failed') : (r.summary ?? r.status);
      lines.push(`    ${icons[r.status](c)} ${r.id.padEnd(idWidth)}  ${text}${how}`);
      const numbers = r.metrics ? describeMetrics(r.metrics) : [];
      const outputs = Object.entries(r.outputs ?? {}).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v));
      const extra = [...numbers, ...outputs.map(([k, v]) => `${k}=${String(v)}`)];
      if (extra.length) lines.push(c.dim(`    ${' '.repeat(idWidth + 4)}${extra.join(' · ')}`));
    }
  }
  return lines.map((l) => fitWidth(l, width));
}

/** Asks a person to approve a gate, showing what the run found so far (inquirer is loaded only now). */
export async function askGate(q: GateQuestion, o: AskGateOptions = {}): Promise<boolean> {
  const { confirm } = await import('@inquirer/prompts');
  const out = process.stdout;
  const width = Math.max(20, (out.columns ?? 80) - 1);
  const block = gateBlock(q, o.evidence ?? [], width, paint(wantsColor(out)));
  out.write(block.join('\n') + '\n');
  try {
    return await confirm(
      { message: q.message, default: false },
      { ...(o.signal ? { signal: o.signal } : {}), clearPromptOnDone: Boolean(o.transient) },
    );
  } catch (err) {
    if (isPromptEnd(err)) return false;
    throw err;
  } finally {
    // Every line of the block is one row (cut to the width), so it can be erased exactly.
    if (o.transient) out.write(`\r\x1b[${block.length}A\x1b[J`);
  }
}

/** A renderer that can also put a gate to a person: it keeps what each step found, to show as evidence. */
export interface GatePromptingRenderer extends Renderer {
  askGate(q: GateQuestion): Promise<boolean>;
}

/** Wraps a renderer: events still go to it, and a gate is asked below it (a live list holds still meanwhile). */
export function withGatePrompts(inner: Renderer, o: Omit<AskGateOptions, 'evidence'> = {}): GatePromptingRenderer {
  const model = new RunModel();
  return {
    event(e) {
      model.apply(e);
      inner.event(e);
    },
    close: () => inner.close?.(),
    async askGate(q) {
      const resume = inner.prompting?.(q.step);
      try {
        return await askGate(q, { ...o, evidence: model.evidenceBefore(q.step) });
      } finally {
        resume?.();
      }
    },
  };
}

/** A required param with no value, as it is put to a person. */
export interface ParamQuestion {
  name: string;
  description?: string | undefined;
  /** Allowed values: chosen from a list. */
  choices?: readonly string[] | undefined;
  /** Typed without echo. */
  secret?: boolean | undefined;
}

/**
 * Asks for params the playbook requires and the command line did not give: free text with the
 * param's description, a list for enum params, hidden input for secrets. Stops at Ctrl-C and
 * returns what was answered so far (the run then reports the rest as missing).
 */
export async function askParams(questions: readonly ParamQuestion[], o: { playbook: string; signal?: AbortSignal }): Promise<Record<string, string>> {
  const { input, password, select } = await import('@inquirer/prompts');
  const c = paint(wantsColor(process.stdout));
  const context = o.signal ? { signal: o.signal } : {};
  process.stdout.write(`${c.bold(`Playbook ${o.playbook} needs ${questions.length === 1 ? 'a param' : `${questions.length} params`}`)} ${c.dim('(Ctrl-C to stop)')}\n`);
  const answers: Record<string, string> = {};
  try {
    for (const q of questions) {
      const message = q.description ? `${q.name} ${c.dim(`(${q.description})`)}` : q.name;
      if (q.choices?.length) {
        answers[q.name] = await select({ message, choices: q.choices.map((value) => ({ value, name: value })) }, context);
      } else if (q.secret) {
        answers[q.name] = await password({ message, mask: '*', validate: (v) => v.length > 0 || `${q.name} is required` }, context);
      } else {
        answers[q.name] = (await input({ message, required: true, validate: (v) => v.trim().length > 0 || `${q.name} is required` }, context)).trim();
      }
    }
  } catch (err) {
    if (!isPromptEnd(err)) throw err;
    process.stdout.write('\n');
  }
  return answers;
}

/** Ctrl-C at a prompt, or the run's signal aborting it. */
function isPromptEnd(err: unknown): boolean {
  const name = (err as Error | undefined)?.name;
  return name === 'ExitPromptError' || name === 'AbortPromptError' || name === 'CancelPromptError';
}
