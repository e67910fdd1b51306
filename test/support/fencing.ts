// The delayed-write scenario of the Kafka run store's fencing (docs/state.md, "Fencing"), shared
// by the single-broker integration test and the 3-node cluster's reliability test.
//
// Process A holds run R's lock and saves its state. It is about to save again, has checked its
// lease, and is stopped (SIGSTOP, as a long GC pause or a VM freeze would) just before its append
// is sent. Its session times out; B takes the lock, reads R and saves twice. A is continued: its
// append goes out and lands in the log after B's records. Every reader must still see B's state,
// the late record must be reported as fenced, A must stop like a holder that lost its lock, and B
// must go on saving.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connectRunLog } from '../../src/adapters/kafka-connect.js';
import type { FencedWrite } from '../../src/state/kafka-fence.js';
import { KafkaRunStore } from '../../src/state/kafka-store.js';
import type { RunState } from '../../src/state/run-state.js';
import { runStateFixture } from './run-state.js';

const dist = (file: string) => JSON.stringify(fileURLToPath(new URL(`../../dist/${file}`, import.meta.url)));

/**
 * Holder A, a process of its own on the built store: takes the lock, then saves each state it is
 * sent on stdin (one JSON line: {state, hold}). With `hold`, it stops itself between the lease
 * check and the append, printing "holding" first. Prints "saved N" after each save, and the
 * error's name, exit code and message if a save throws.
 */
const holderScript = `
const { KafkaRunStore } = await import(${dist('state/kafka-store.js')});
const { connectRunLog } = await import(${dist('adapters/kafka-connect.js')});
const [brokers, topic, lockTopic, run, sessionTimeoutMs] = process.argv.slice(1);
let hold = false;
const connect = async () => {
  const log = await connectRunLog({ brokers: brokers.split(','), clientId: 'fencing-holder-a' });
  const append = log.append.bind(log);
  log.append = (...args) => {
    if (hold) {
      hold = false;
      process.stdout.write('holding\\n');
      process.kill(process.pid, 'SIGSTOP');
    }
    return append(...args);
  };
  return log;
};
const store = new KafkaRunStore(connect, { topic, lockTopic, sessionTimeoutMs: Number(sessionTimeoutMs), where: brokers });
await store.lock(run);
process.stdout.write('locked\\n');
let saved = 0;
const lines = (await import('node:readline')).createInterface({ input: process.stdin });
for await (const line of lines) {
  const order = JSON.parse(line);
  hold = order.hold;
  try {
    await store.write(order.state);
    process.stdout.write('saved ' + ++saved + '\\n');
  } catch (err) {
    process.stdout.write('error ' + err.name + ' ' + err.exitCode + ': ' + err.message + '\\n');
    process.exit(err.exitCode ?? 1);
  }
}`;

/** What the scenario saw, for the test to assert on. */
export interface DelayedWriteOutcome {
  /** What a fresh reader reads of R after the late write landed. */
  read: RunState | undefined;
  listed: RunState | undefined;
  fenced: FencedWrite[];
  /** Log-end offsets around A's late write: it did land. */
  endBeforeLate: number;
  endAfterLate: number;
  /** A's last line and exit code. */
  holderA: { lastLine: string; code: number | null };
  /** What B read when it took the lock, and what a reader sees after B saved once more. */
  bTookOver: RunState | undefined;
  afterB: RunState | undefined;
  /** Milliseconds from A's stop to B holding the lock. */
  takeoverMs: number;
}

/** A state of run `name` whose one step's summary says who saved it and when. */
export function savedBy(name: string, summary: string): RunState {
  return runStateFixture({ name, steps: [{ id: 'a', uses: 'kafka.topic', status: 'running', attempts: 1, summary }], updatedAt: new Date().toISOString() });
}

/** Runs the scenario on the cluster at `brokers` (comma-separated). */
export async function delayedWriteScenario(o: { brokers: string; topic: string; lockTopic: string; run: string; sessionTimeoutMs: number }): Promise<DelayedWriteOutcome> {
  const store = (waitLockMs = 0) =>
    new KafkaRunStore(() => connectRunLog({ brokers: o.brokers.split(','), clientId: 'fencing-test' }), {
      topic: o.topic,
      lockTopic: o.lockTopic,
      sessionTimeoutMs: o.sessionTimeoutMs,
      waitLockMs,
      where: o.brokers,
    });
  const a = spawn(process.execPath, ['--input-type=module', '-e', holderScript, o.brokers, o.topic, o.lockTopic, o.run, String(o.sessionTimeoutMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = lineReader(a);
  const exited = new Promise<number | null>((resolve) => a.once('close', (code) => resolve(code)));
  try {
    await lines.until(/^locked$/);
    a.stdin.write(JSON.stringify({ state: savedBy(o.run, 'A: step 1 done'), hold: false }) + '\n');
    await lines.until(/^saved 1$/);

    // A checks its lease and stops right before its append goes out.
    a.stdin.write(JSON.stringify({ state: savedBy(o.run, 'A: step 2 done (late)'), hold: true }) + '\n');
    await lines.until(/^holding$/);
    const stoppedAt = performance.now();

    // B waits for the lock: A's session times out, the group hands B the lock.
    const b = store(10 * o.sessionTimeoutMs);
    const bLock = await b.lock(o.run);
    const takeoverMs = performance.now() - stoppedAt;
    const bTookOver = await b.read(o.run);
    await b.write(savedBy(o.run, 'B: step 2 done'));
    await b.write(savedBy(o.run, 'B: step 3 done'));

    // A goes on: its append is sent now, after B's records.
    const endBeforeLate = await logEnd(o);
    a.kill('SIGCONT');
    const code = await exited;
    const endAfterLate = await logEnd(o);

    const reader = store();
    const read = await reader.read(o.run);
    const listed = (await reader.list()).find((s) => s.name === o.run);
    const fenced = (await reader.fencedWrites?.(o.run)) ?? [];
    // B is still the holder: it saves again, and a reader sees it.
    await b.write(savedBy(o.run, 'B: step 4 done'));
    const afterB = await store().read(o.run);
    await bLock.release();
    return { read, listed, fenced, endBeforeLate, endAfterLate, holderA: { lastLine: lines.last(), code }, bTookOver, afterB, takeoverMs };
  } finally {
    if (a.exitCode === null && a.signalCode === null) {
      a.kill('SIGCONT');
      a.kill('SIGKILL');
    }
  }
}

/** The state topic's log-end offset, as the store's own adapter reads it. */
async function logEnd(o: { brokers: string; topic: string }): Promise<number> {
  const log = await connectRunLog({ brokers: o.brokers.split(','), clientId: 'fencing-test' });
  try {
    return (await log.offsets(o.topic)).end;
  } finally {
    await log.close();
  }
}

/** The child's stdout as lines: wait for one that matches, and the last one seen. */
function lineReader(child: ChildProcess & { stdout: NodeJS.ReadableStream }) {
  const seen: string[] = [];
  let buffer = '';
  let wake = () => undefined as void;
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    seen.push(...parts);
    wake();
  });
  let from = 0;
  return {
    async until(re: RegExp, timeoutMs = 60_000): Promise<string> {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        for (; from < seen.length; from++) {
          const line = seen[from] as string;
          if (re.test(line)) {
            from += 1;
            return line;
          }
          if (line.startsWith('error ')) throw new Error(`holder A failed: ${line}`);
        }
        if (child.exitCode !== null) throw new Error(`holder A exited (${child.exitCode}) before ${re}; it printed: ${seen.join(' | ')}`);
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`holder A did not print ${re} within ${timeoutMs} ms; it printed: ${seen.join(' | ')}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 500));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    },
    last: () => seen[seen.length - 1] ?? '',
  };
}
