import path from 'node:path';
import { z } from 'zod';
import { CommandNotStartedError, startCommand, type CommandResult, type RunningCommand } from '../adapters/command.js';
import { defineStep, type StepContext } from './contract.js';

/** Output kept per command unless the step says (`outputLimit`). */
const DEFAULT_OUTPUT_LIMIT = 64 * 1024;
/** Lines of output a failure message quotes, and how long one may be. */
const FAILURE_LINES = 10;
const LINE_CHARS = 300;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const argv = z
  .array(z.string(), 'expected a command as an argv array of strings, e.g. ["kubectl", "rollout", "status", "deploy/app"]')
  .min(1, 'the command is empty: give the program and its arguments, e.g. ["kubectl", "rollout", "status", "deploy/app"]')
  .refine((a) => a[0] !== '', { message: 'the program name is empty', path: [0] });

const params = z
  .object({
    check: argv.describe('exit 0: done; any other exit: not yet. Its last output line is the summary'),
    apply: argv.optional().describe('makes it so; a non-zero exit fails the step. Without it the step waits for check'),
    undo: argv.optional().describe('puts back what apply did, for rollback'),
    env: z
      .record(z.string().regex(NAME, 'an environment variable name: letters, digits and _, not starting with a digit'), z.union([z.string(), z.number(), z.boolean()]).transform(String))
      .optional()
      .describe('added to the environment of the commands; values may read ${{ params.* }} and ${{ env.* }}'),
    cwd: z.string().min(1).optional().describe('where the commands run, relative to the working directory'),
    shell: z.literal(true).optional().describe('each command is one script string run by /bin/sh -c (see the docs for the risks)'),
    outputLimit: z.coerce
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(DEFAULT_OUTPUT_LIMIT)
      .describe('bytes of output kept per command, for the summary, outputs and failure messages'),
    readOnlyCheck: z.boolean().optional().describe('check changes nothing, so migrate plan may run it'),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const role of ['check', 'apply', 'undo'] as const) {
      const cmd = p[role];
      if (!cmd) continue;
      if (p.shell && cmd.length !== 1) {
        ctx.addIssue({ code: 'custom', path: [role], message: 'with shell: true a command is one script string, e.g. ["kubectl get pods | grep -q Running"]' });
      } else if (!p.shell && cmd.length === 1 && /\s/.test(cmd[0] as string)) {
        ctx.addIssue({
          code: 'custom',
          path: [role, 0],
          message: `"${cmd[0]}" is a whole command line in one string: split it into an argv array (["${(cmd[0] as string).trim().split(/\s+/).join('", "')}"]), or set shell: true`,
        });
      }
    }
    if (p.undo && !p.apply) ctx.addIssue({ code: 'custom', path: ['undo'], message: 'undo without apply: there is nothing for it to put back' });
  });

/** The `with:` of an exec step. */
export type ExecParams = z.infer<typeof params>;
type Role = 'check' | 'apply' | 'undo';

interface ExecMemory {
  /** Commands of this execution starting or running, stopped when the execution ends however it ends. */
  running?: Set<Promise<RunningCommand | undefined>>;
}

/**
 * exec: a team's own command as a step: `check` looks (exit 0: done), `apply` acts, `undo` puts
 * back. Each runs without a shell in a process group of its own, stopped whole on timeout, Ctrl-C
 * or SIGTERM; a last stdout line that is a JSON object becomes the step's outputs.
 */
export const execStep = defineStep({
  type: 'exec',
  params,
  timeoutMs: 10 * 60_000,
  intervalMs: 2000,
  irreversible: 'it has no undo command; what its apply did is kept',
  provides: (p) => ({ apply: p.apply !== undefined, undo: p.undo !== undefined }),
  plan: {
    unsafeLook: (p) =>
      p.readOnlyCheck
        ? undefined
        : `its check runs \`${commandLine(p.check)}\`, which migrate cannot know changes nothing; plan runs it only with readOnlyCheck: true`,
  },
  describe: (p) => (p.apply ? `run \`${commandLine(p.apply)}\` until \`${commandLine(p.check)}\` succeeds` : `wait until \`${commandLine(p.check)}\` succeeds`),

  async check(p, ctx) {
    const r = await runRole('check', p, ctx);
    const found = readOutput(r);
    if (r.stopped === 'deadline') return { done: false, summary: `check \`${commandLine(p.check)}\` was still running at the step's timeout; its process group was stopped` };
    if (r.code === 0) return { done: true, summary: found.summary ?? `\`${commandLine(p.check)}\` exited 0`, ...(found.outputs ? { outputs: found.outputs } : {}) };
    const summary = found.summary ?? `\`${commandLine(p.check)}\` ${endText(r)}`;
    return { done: false, summary, ...(p.apply ? {} : { progress: { message: summary } }) };
  },

  async apply(p, ctx) {
    if (!p.apply) return {};
    const r = succeeded('apply', p.apply, await runRole('apply', p, ctx));
    return readOutput(r).outputs ?? {};
  },

  async undo(p, ctx, outputs) {
    if (!p.undo) return;
    succeeded('undo', p.undo, await runRole('undo', p, ctx, { MIGRATE_OUTPUTS: JSON.stringify(outputs) }));
  },
});

/** Runs one of the step's commands to its end; stops its process group if the execution ends first. */
async function runRole(role: Role, p: ExecParams, ctx: StepContext, extraEnv: Record<string, string> = {}): Promise<CommandResult> {
  const cmd = p[role] as string[];
  const mem = ctx.memory as ExecMemory;
  if (!mem.running) {
    const running = new Set<Promise<RunningCommand | undefined>>();
    mem.running = running;
    // Interrupted (Ctrl-C, SIGTERM): the engine stops waiting at once, then runs this before it
    // saves and exits. A command still being started is waited for, then stopped.
    ctx.defer(async () => {
      await Promise.all([...running].map(async (starting) => (await starting)?.stop('aborted')));
    });
  }
  const starting = startCommand({
    argv: p.shell ? ['/bin/sh', '-c', cmd[0] as string] : cmd,
    cwd: p.cwd === undefined ? ctx.cwd : path.resolve(ctx.cwd, p.cwd),
    env: { ...process.env, ...p.env, MIGRATE_RUN: ctx.run, MIGRATE_STEP: ctx.step, ...extraEnv },
    signal: ctx.signal,
    deadline: ctx.deadline,
    now: ctx.now,
    outputLimit: p.outputLimit,
  });
  const tracked = starting.catch(() => undefined);
  mem.running.add(tracked);
  try {
    let running: RunningCommand;
    try {
      running = await starting;
    } catch (err) {
      if (err instanceof CommandNotStartedError) throw new ExecError(`exec: ${err.message} (${role})`);
      throw err;
    }
    const r = await running.result;
    // Stopped because the run was interrupted: what it printed while dying is no finding.
    if (r.stopped === 'aborted') throw ctx.signal.reason;
    return r;
  } finally {
    mem.running.delete(tracked);
  }
}

/** A command of an exec step failed; the message is the whole story (no stack is worth showing). */
export class ExecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExecError';
  }
}

/** The step's summary and outputs, from the last lines of what a command printed. */
export function readOutput(r: Pick<CommandResult, 'stdout' | 'output'>): { summary?: string; outputs?: Record<string, unknown> } {
  const lines = r.stdout.lastLines(2);
  let outputs: Record<string, unknown> | undefined;
  const last = lines.at(-1)?.trim();
  if (last?.startsWith('{')) {
    const value = parseObject(last);
    if (value) {
      outputs = value;
      lines.pop();
    }
  }
  const line = lines.at(-1) ?? (outputs ? undefined : r.output.lastLines(1)[0]);
  return { ...(line !== undefined ? { summary: clip(line.trim()) } : {}), ...(outputs ? { outputs } : {}) };
}

/** A JSON object, or undefined when the line is not one (a line may start with { and be prose). */
function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `r`, when the command exited 0; else the step's failure: the command, how it ended, its last lines. */
function succeeded(role: Role, cmd: string[], r: CommandResult): CommandResult {
  if (r.code === 0 && !r.stopped) return r;
  const how = r.stopped === 'deadline' ? "was still running at the step's timeout; its process group was stopped" : endText(r);
  const lines = r.output.lastLines(FAILURE_LINES).map((l) => `  ${clip(l)}`);
  const head = `${role} \`${commandLine(cmd)}\` ${how}`;
  throw new ExecError(lines.length ? `${head}; its last output:\n${lines.join('\n')}` : `${head}, printing nothing`);
}

/** "exited with code 3", "was killed by SIGKILL". */
function endText(r: Pick<CommandResult, 'code' | 'signal'>): string {
  return r.signal ? `was killed by ${r.signal}` : `exited with code ${r.code ?? '?'}`;
}

/** argv as one readable line (quoted where a shell would need it). */
export function commandLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}

/**
 * A line cut to LINE_CHARS at a space, never inside a word: a secret the engine masks later must
 * not be cut in two, leaving its first half unmasked. A first word longer than that is left out.
 */
export function clip(line: string): string {
  if (line.length <= LINE_CHARS) return line;
  const cut = line.lastIndexOf(' ', LINE_CHARS);
  return cut > 0 ? `${line.slice(0, cut)} …` : '…';
}
