import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI, run as a user runs it. */
export const migrateBin = fileURLToPath(new URL('../../bin/migrate', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** The Node.js binary that runs the CLI (scripts/node-lib.mjs fetches others); the tests' own by default. */
  node?: string;
}

/** Starts `migrate <args>` without a terminal (pipes, CI=true), like a pipeline would. */
export function startCli(
  args: string[],
  o: CliOptions,
): ChildProcess & { result: Promise<CliResult>; untilStdout(pattern: RegExp, timeoutMs?: number): Promise<void>; printed(): string } {
  const child = spawn(o.node ?? process.execPath, [migrateBin, ...args], {
    cwd: o.cwd,
    // A test's CLI never writes annotations into the CI job that runs the tests.
    env: { ...process.env, GITHUB_ACTIONS: undefined, GITHUB_STEP_SUMMARY: undefined, CI: 'true', NO_COLOR: '1', ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  /** Resolves once what the CLI printed so far matches `pattern`; rejects if it exits or the time runs out first. */
  const untilStdout = async (pattern: RegExp, timeoutMs = 60_000): Promise<void> => {
    const exited = result.then(() => 'exited' as const);
    await eventually(async () => pattern.test(stdout) || (await Promise.race([exited, Promise.resolve(false)])), timeoutMs);
    if (!pattern.test(stdout)) throw new Error(`the CLI exited before printing ${pattern}; it printed:\n${stdout}`);
  };
  /** What the CLI printed to stdout so far. */
  const printed = () => stdout;
  return Object.assign(child, { result, untilStdout, printed });
}

/** Runs `migrate <args>` to the end. */
export function runCli(args: string[], o: CliOptions): Promise<CliResult> {
  return startCli(args, o).result;
}

/** A fresh working directory with the given files in it. */
export async function workdir(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'migrate-e2e-'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

/** The NDJSON events a `--json` run printed. */
export function events(stdout: string): { type: string; step?: string; [k: string]: unknown }[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string; step?: string });
}

/** A name no other test (or earlier run of this test) uses. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Polls until `fn` returns a truthy value or the time runs out. */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 30_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
