import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { TailBuffer } from '../util/tail.js';

/** How long a stopped command's process group has between SIGTERM and SIGKILL. */
export const STOP_GRACE_MS = 5_000;
/** How long to wait for a command's output streams after it exits (a background grandchild may hold them). */
const DRAIN_MS = 500;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A command to run, and what bounds it. */
export interface CommandSpec {
  /** Program and arguments; run without a shell. */
  argv: readonly string[];
  cwd: string;
  env: Record<string, string | undefined>;
  /** Aborting it stops the command's whole process group. */
  signal: AbortSignal;
  /** Stop the command's process group at this moment (ms since the epoch). */
  deadline?: number | undefined;
  now(): number;
  /** Bytes of output kept, for stdout and for stdout and stderr together. */
  outputLimit: number;
  graceMs?: number;
}

/** How a command ended, and the tail of what it printed. */
export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** We stopped it: the abort signal fired, or the deadline came. */
  stopped?: 'aborted' | 'deadline';
  stdout: TailBuffer;
  /** stdout and stderr interleaved as they came. */
  output: TailBuffer;
}

/** A command that could not be started at all (no such program, no such directory, not executable). */
export class CommandNotStartedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandNotStartedError';
  }
}

/** A running command: its pid, its end, and a way to stop its whole process group. */
export interface RunningCommand {
  pid: number;
  result: Promise<CommandResult>;
  /** SIGTERM to the group, SIGKILL after the grace; resolves once the command has exited. */
  stop(why: 'aborted' | 'deadline'): Promise<void>;
}

/**
 * Starts a command in a process group of its own (detached), so that stopping it reaches every
 * process it started, and a Ctrl-C at the terminal reaches it only through migrate, which saves the
 * run first. Rejects with CommandNotStartedError when the program or the directory is missing.
 */
export async function startCommand(spec: CommandSpec): Promise<RunningCommand> {
  if (spec.signal.aborted) throw spec.signal.reason;
  const [file, ...args] = spec.argv as [string, ...string[]];
  const dir = await stat(spec.cwd).catch(() => undefined);
  if (!dir?.isDirectory()) throw new CommandNotStartedError(`working directory not found: ${spec.cwd}`);

  const child = spawn(file, args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const started = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid as number));
    child.once('error', (err: NodeJS.ErrnoException) => reject(notStarted(file, err)));
  });
  const pid = started;
  const stdout = new TailBuffer(spec.outputLimit);
  const output = new TailBuffer(spec.outputLimit);
  child.stdout.on('data', (d: Buffer) => {
    stdout.push(d);
    output.push(d);
  });
  child.stderr.on('data', (d: Buffer) => output.push(d));

  let hasExited = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      hasExited = true;
      resolve({ code, signal });
    });
  });
  // Output still in the pipes arrives before 'close'.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let stopped: 'aborted' | 'deadline' | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (why: 'aborted' | 'deadline'): Promise<void> => {
    if (stopping) return stopping;
    // A command that ended by itself is left alone, and so is what it left running on purpose.
    if (hasExited) return Promise.resolve();
    stopped = why;
    stopping = (async () => {
      signalGroup(pid, 'SIGTERM');
      let grace: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        grace = setTimeout(() => {
          signalGroup(pid, 'SIGKILL');
          resolve();
        }, spec.graceMs ?? STOP_GRACE_MS);
      });
      await Promise.race([exited, killed]);
      await exited;
      clearTimeout(grace);
      // The leader is gone; what it started and left behind in its group goes with it. (Not waited
      // for: its orphans are reaped by init, and where init never reaps (a container without one)
      // they stay zombies, which no wait would see go.)
      signalGroup(pid, 'SIGKILL');
    })();
    return stopping;
  };

  const onAbort = () => void stop('aborted');
  spec.signal.addEventListener('abort', onAbort, { once: true });
  // Aborted while the command was being started: no abort event is coming any more.
  if (spec.signal.aborted) onAbort();
  const left = spec.deadline === undefined ? undefined : Math.max(0, spec.deadline - spec.now());
  // Beyond setTimeout's range (about 24.8 days) a timer would fire at once.
  const timer = left === undefined || left > MAX_TIMER_MS ? undefined : setTimeout(() => void stop('deadline'), left);

  const result = (async (): Promise<CommandResult> => {
    const end = await exited;
    spec.signal.removeEventListener('abort', onAbort);
    clearTimeout(timer);
    await stopping;
    // A grandchild that holds the pipes open is not waited for.
    let drain: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (drain = setTimeout(resolve, DRAIN_MS)))]);
    clearTimeout(drain);
    child.stdout.destroy();
    child.stderr.destroy();
    return { ...end, ...(stopped ? { stopped } : {}), stdout, output };
  })();
  return { pid, result, stop };
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: the group is gone already.
  }
}

function notStarted(file: string, err: NodeJS.ErrnoException): CommandNotStartedError {
  if (err.code === 'ENOENT') return new CommandNotStartedError(`command not found: ${file}`);
  if (err.code === 'EACCES') return new CommandNotStartedError(`permission denied: ${file} is not executable`);
  return new CommandNotStartedError(`cannot start ${file}: ${err.code ?? err.message}`);
}
