// The demo services (demo/source.mjs, demo/consumer.mjs) as child processes of a test, and the
// flagd-format flag file they read.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const demoDir = fileURLToPath(new URL('../../demo/', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

export interface DemoService {
  /** http://127.0.0.1:<port>, from the service's LISTENING line. */
  url: string;
  pid: number;
  /** SIGTERM, wait for the exit; SIGKILL after 10 s. Resolves once the process is gone. */
  stop(): Promise<void>;
  /** SIGKILL, no waiting. */
  kill(): void;
  /** Everything the process wrote to stderr so far (its log). */
  logs(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SourceOptions {
  brokers: string[] | string;
  topic: string;
  /** The flagd-format flag file. */
  flags: string;
  producerFlag: string;
  kind?: 'func' | 'form';
  port?: number;
  /** Events per second while the producer flag is ON (default 40). */
  rate?: number;
  /** The versions each operation is published as: '0' (default), '1' or '0,1' (dual publish). */
  versions?: '0' | '1' | '0,1';
  /** Flags of their own for v0 and v1: a version is published while its flag is ON (instead of `versions`). */
  v0Flag?: string;
  v1Flag?: string;
  /** Where v1 events go (a topic per version); default: beside v0 on `topic`. */
  v1Topic?: string;
  /** Each operation a completion of its own (a candidate per event), as operationKey and completeness need. */
  completions?: boolean;
  /** The bearer token GET /operations asks for. */
  operationsToken?: string;
  env?: Record<string, string | undefined>;
}

export interface ConsumerOptions {
  brokers: string[] | string;
  topic: string;
  group: string;
  flags: string;
  /** The flag that switches it to async mode. */
  flag: string;
  /** Base URL of the source, for the synchronous calls. */
  source: string;
  port?: number;
  retireWhenDrained?: boolean;
  producerFlag?: string;
  env?: Record<string, string | undefined>;
}

const brokerList = (b: string[] | string): string => (Array.isArray(b) ? b.join(',') : b);

export function startSource(o: SourceOptions): Promise<DemoService> {
  const args = ['--brokers', brokerList(o.brokers), '--topic', o.topic, '--flags', o.flags, '--producer-flag', o.producerFlag, '--kind', o.kind ?? 'func'];
  if (o.port !== undefined) args.push('--port', String(o.port));
  if (o.rate !== undefined) args.push('--rate', String(o.rate));
  if (o.versions !== undefined) args.push('--versions', o.versions);
  if (o.v0Flag !== undefined) args.push('--v0-flag', o.v0Flag);
  if (o.v1Flag !== undefined) args.push('--v1-flag', o.v1Flag);
  if (o.v1Topic !== undefined) args.push('--v1-topic', o.v1Topic);
  if (o.completions) args.push('--completions');
  if (o.operationsToken !== undefined) args.push('--operations-token', o.operationsToken);
  return startService('source.mjs', args, o.env);
}

export function startConsumer(o: ConsumerOptions): Promise<DemoService> {
  const args = ['--brokers', brokerList(o.brokers), '--topic', o.topic, '--group', o.group, '--flags', o.flags, '--flag', o.flag, '--source', o.source];
  if (o.port !== undefined) args.push('--port', String(o.port));
  if (o.retireWhenDrained) args.push('--retire-when-drained');
  if (o.producerFlag !== undefined) args.push('--producer-flag', o.producerFlag);
  return startService('consumer.mjs', args, o.env);
}

/** Services still running; killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

function startService(script: string, args: string[], env: Record<string, string | undefined> = {}): Promise<DemoService> {
  const file = path.join(demoDir, script);
  const child = spawn(process.execPath, [file, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child);
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const gone = (): boolean => child.exitCode !== null || child.signalCode !== null;

  const kill = (): void => {
    if (!gone()) child.kill('SIGKILL');
  };
  const stop = async (): Promise<void> => {
    if (gone()) return;
    child.kill('SIGTERM');
    const timer = setTimeout(kill, STOP_GRACE_MS);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  return new Promise<DemoService>((resolve, reject) => {
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      child.off('exit', onExit);
      child.off('error', onError);
      return true;
    };
    const fail = (why: string): void => {
      if (!settle()) return;
      kill();
      reject(new Error(`${script} ${why}\n--- stderr ---\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`printed no LISTENING line within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => fail(`exited (${signal ?? `code ${code}`}) before it was ready`);
    const onError = (err: Error): void => fail(`could not start: ${err.message}`);
    child.once('exit', onExit);
    child.once('error', onError);
    // Keep reading stdout after the LISTENING line too, so the pipe never fills.
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (settled) return;
      stdout += d;
      const m = /^LISTENING (http:\/\/\S+)$/m.exec(stdout);
      if (m?.[1] && settle()) resolve({ url: m[1], pid: child.pid as number, stop, kill, logs: () => stderr, exited });
    });
  });
}

/** Writes a flagd-format flag file holding exactly `flags` (key -> on/off), atomically (temp file + rename). */
export async function writeFlags(file: string, flags: Record<string, boolean>): Promise<void> {
  const doc = {
    $schema: 'https://flagd.dev/schema/v0/flags.json',
    flags: Object.fromEntries(
      Object.entries(flags).map(([key, on]) => [key, { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: on ? 'on' : 'off' }]),
    ),
  };
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(doc, null, 2) + '\n');
  await rename(tmp, file);
}
