// Runs of kafka.drain and kafka.verify with a broker fault injected under them, shared by
// broker-restart.test.ts (the single broker restarted) and cluster-faults.test.ts (a partition
// leader of a 3-node cluster SIGKILLed and started again). The fault is a callback; the run, the
// load around it and the checks afterwards are the same.
import { cp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import kafkajs from 'kafkajs';
import { expect, type TestContext } from 'vitest';
import { connectKafka } from '../../src/adapters/kafka-connect.js';
import { runStateSchema, type RunState } from '../../src/state/run-state.js';
import { events, eventually, startCli, unique, workdir, type CliResult } from '../support/cli.js';
import { exactProducer } from '../support/kafka-client.js';
import { drainPlaybook } from '../support/playbooks.js';
import { watchStateFile } from '../support/run-state.js';
import { exerciseEvent } from '../support/seed-schema.js';
import { report } from './figures.js';
import { STACK_TRACE } from './support.js';

const { Kafka, logLevel } = kafkajs;

/** Records waiting in the drain test's topic before the run starts. */
export const BACKLOG = 300;
/** Events the verify test produces while the run waits for them. */
export const EVENTS = 80;

const verifyPlaybook = `name: verify
params:
  topic: { required: true }
steps:
  - id: flowing
    uses: kafka.verify
    with: { topic: "\${{ params.topic }}", event: ExerciseCompleted, version: 0, minEvents: ${EVENTS} }
    timeout: 3m
    interval: 250ms
`;

/** What a fault run counts: one row of the reliability table. */
export interface Tally {
  runs: number;
  faults: number;
  completed: number;
  resumed: number;
  lost: number;
  badReads: number;
  /** step.retry events: the fault as the step felt it. */
  retries: number;
}

export const tally = (): Tally => ({ runs: 0, faults: 0, completed: 0, resumed: 0, lost: 0, badReads: 0, retries: 0 });

/** The table cells of a tally; `faults` is labelled as the fault is named ("restarts", "leaders killed"). */
export function row(t: Tally, faultLabel: string, extra: Record<string, number> = {}): Record<string, number> {
  return {
    runs: t.runs,
    [faultLabel]: t.faults,
    'step retries': t.retries,
    completed: t.completed,
    'resumed after a failure': t.resumed,
    lost: t.lost,
    'state reads that did not parse': t.badReads,
    ...extra,
  };
}

/** step.retry events in the runs' output. */
export const stepRetries = (...rs: CliResult[]): number => rs.flatMap((r) => events(r.stdout)).filter((e) => e.type === 'step.retry').length;

/** What a failed attempt printed must say what happened, in a line, without a stack trace. */
export function expectClearFailure(r: CliResult): void {
  const failed = events(r.stdout).find((e) => e.type === 'step.failed');
  expect(failed?.error, r.stdout + r.stderr).toMatch(/Kafka|broker|timed out|leader/);
  expect(r.stdout + r.stderr).not.toMatch(STACK_TRACE);
}

/** The run's state file, checked against the schema the CLI itself reads it with. */
export async function stateOf(cwd: string, run: string): Promise<RunState> {
  return runStateSchema.parse(JSON.parse(await readFile(path.join(cwd, '.migrate', `${run}.json`), 'utf8')));
}

/** How one file's fault runs reach their cluster, and how the fault is named in the table. */
export interface FaultTarget {
  /** Bootstrap servers, comma-separated. */
  brokers: string;
  /** The `faults` cell's label. */
  faultLabel: string;
  /** Replication factor of the topics the runs use (and min.insync.replicas, when set). */
  replicationFactor: number;
  minInsyncReplicas?: number;
}

/** One fault run: which round (see drainThrough, verifyThrough), the fault, and its table row. */
export interface FaultRun {
  round: number;
  /** Strikes the cluster serving `topic`; the run goes on meanwhile. */
  fault: (topic: string) => Promise<unknown>;
  /** The reliability table's row. */
  row: string;
  /** More cells for the row (e.g. what the fault measured), read whenever the row is reported. */
  extra?: () => Record<string, number>;
}

/**
 * Topics, working dirs, CLI runs and clients for fault runs against one cluster; `cleanup()`
 * after each test, `close()` after all.
 */
export class FaultHarness {
  /** The tests' own client: patient enough to ride out the faults it causes. */
  readonly client: InstanceType<typeof Kafka>;
  private readonly dirs: string[] = [];
  private readonly cleanups: (() => Promise<void>)[] = [];

  constructor(readonly target: FaultTarget) {
    this.client = new Kafka({
      clientId: 'migrate-tests',
      brokers: target.brokers.split(','),
      logLevel: logLevel.NOTHING,
      retry: { retries: 40, initialRetryTime: 200, maxRetryTime: 1000 },
    });
  }

  /** Runs `fn` at the end of the current test (in reverse order of registration). */
  defer(fn: () => Promise<unknown>): void {
    this.cleanups.push(async () => void (await fn()));
  }

  async cleanup(): Promise<void> {
    for (const c of this.cleanups.splice(0).reverse()) await c().catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.cleanup();
    for (const d of this.dirs.splice(0)) await rm(d, { recursive: true, force: true });
  }

  async runDir(files: Record<string, string>): Promise<string> {
    const cwd = await workdir(files);
    this.dirs.push(cwd);
    return cwd;
  }

  /**
   * Through migrate's own KafkaCluster (as kafka.topic creates topics): kafkajs's waitForLeaders
   * gives up on a Kafka 3.9 cluster whose brokers do not know the new topic yet.
   */
  async createTopic(topic: string, partitions: number): Promise<void> {
    const { replicationFactor, minInsyncReplicas } = this.target;
    const admin = await connectKafka({ brokers: this.target.brokers.split(','), clientId: 'migrate-tests' });
    try {
      const configs: Record<string, string> = minInsyncReplicas ? { 'min.insync.replicas': String(minInsyncReplicas) } : {};
      await admin.createTopic({ name: topic, partitions, replicationFactor, configs });
    } finally {
      await admin.close();
    }
  }

  /** A CLI run whose --json events can be watched as they come; SIGKILLed at cleanup if still running. */
  watched(args: string[], cwd: string) {
    const child = startCli([...args, '--json'], { cwd, env: { KAFKA_BROKERS: this.target.brokers } });
    this.defer(async () => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    return { child, result: child.result, events: () => events(out) };
  }

  /**
   * A run waits in kafka.drain for a group with a backlog as lag; `fault(topic)` strikes while
   * nothing consumes (odd rounds; a consumer starts after it) or while a consumer is a third of
   * the way through (even rounds). The run completes (or fails clearly and a resume completes),
   * every state read parses, and the consumer got every record.
   */
  async drainThrough(ctx: TestContext, { round, fault, row: rowName, extra = () => ({}) }: FaultRun): Promise<void> {
    const t = tally();
    const put = () => report(ctx, rowName, row(t, this.target.faultLabel, extra()));
    put();
    const topic = unique('fault-drain');
    const group = unique('fault-drain-group');
    await this.createTopic(topic, 2);
    const producer = exactProducer(this.client);
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: Array.from({ length: BACKLOG }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();

    const cwd = await this.runDir({ 'drain.yaml': drainPlaybook({ samples: 3, interval: '250ms', timeout: '3m' }) });
    const run = `drain-${topic}`;
    const watch = watchStateFile(path.join(cwd, '.migrate', `${run}.json`));
    this.defer(async () => watch.stop());
    const args = ['run', 'drain.yaml', '-p', `topic=${topic}`, '-p', `group=${group}`];
    const first = this.watched(args, cwd);
    t.runs += 1;
    // Waiting, with the whole backlog as lag.
    await eventually(async () => first.events().some((e) => e.type === 'step.progress' && e.step === 'drained'), 60_000);

    const consumed = new Set<string>();
    const consumer = this.client.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 250 });
    this.defer(() => consumer.disconnect());
    const consume = async (delayMs: number) => {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommitInterval: 200,
        eachMessage: async ({ partition, message }) => {
          consumed.add(`${partition}:${message.offset}`);
          if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
        },
      });
    };
    if (round % 2 === 0) {
      await consume(20);
      await eventually(async () => consumed.size >= BACKLOG / 3, 60_000);
    }
    await fault(topic);
    t.faults += 1;
    if (round % 2 === 1) await consume(0);

    let done = await first.result;
    t.retries += stepRetries(done);
    if (done.code !== 0) {
      expect(done.code, done.stdout + done.stderr).toBe(1);
      expectClearFailure(done);
      done = await this.watched(args, cwd).result;
      t.runs += 1;
      t.retries += stepRetries(done);
      if (done.code === 0) t.resumed += 1;
    }
    watch.stop();
    if (done.code === 0) t.completed += 1;
    const state = await stateOf(cwd, run).catch(() => undefined);
    t.badReads = watch.bad.length;
    t.lost = watch.bad.length + (state ? 0 : 1) + Math.max(0, BACKLOG - consumed.size);
    put();

    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(watch.bad).toEqual([]);
    expect(watch.reads()).toBeGreaterThan(0);
    expect(state?.status).toBe('completed');
    expect(state?.steps).toMatchObject([{ id: 'drained', status: 'done' }]);
    // The history shows the wait: started, lag samples while the backlog stood, done once.
    const kinds = (state?.history ?? []).filter((h) => h.step === 'drained').map((h) => h.type);
    expect(kinds[0]).toBe('step.started');
    expect(kinds).toContain('step.progress');
    expect(kinds.at(-1)).toBe('step.done');
    expect(kinds.filter((k) => k === 'step.done')).toHaveLength(1);
    expect(consumed.size).toBeGreaterThanOrEqual(BACKLOG);
  }

  /**
   * A run waits in kafka.verify while one idempotent producer (acks=all, one event at a time)
   * sends EVENTS events; `fault(topic)` strikes a third (odd rounds) or two thirds (even rounds)
   * of the way through. Verify counts every event produced since it (last) began, once.
   */
  async verifyThrough(ctx: TestContext, { round, fault, row: rowName, extra = () => ({}) }: FaultRun): Promise<void> {
    const t = tally();
    const put = () => report(ctx, rowName, row(t, this.target.faultLabel, extra()));
    put();
    const topic = unique('fault-verify');
    await this.createTopic(topic, 2);
    const cwd = await this.runDir({ 'verify.yaml': verifyPlaybook });
    await cp(new URL('../../examples/schemas', import.meta.url), path.join(cwd, 'schemas'), { recursive: true });
    const run = `verify-${topic}`;
    const watch = watchStateFile(path.join(cwd, '.migrate', `${run}.json`));
    this.defer(async () => watch.stop());
    const args = ['run', 'verify.yaml', '-p', `topic=${topic}`];
    const first = this.watched(args, cwd);
    t.runs += 1;
    // The step has looked once: it reads from the log end of that moment.
    await eventually(async () => first.events().some((e) => e.type === 'step.checked' && e.step === 'flowing'), 60_000);

    // One idempotent producer, one event at a time: each is acknowledged exactly once, fault or not.
    const producer = this.client.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    this.defer(() => producer.disconnect());
    let produced = 0;
    const produce = async (count: number) => {
      for (let i = 0; i < count; i++) {
        await producer.send({ topic, acks: -1, messages: [{ key: `k${produced}`, value: JSON.stringify(exerciseEvent(`r${produced}`)) }] });
        produced += 1;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };
    const producing = produce(EVENTS);
    producing.catch(() => undefined); // awaited below; a failure is reported there
    const at = Math.round((EVENTS * (round % 2 === 1 ? 1 : 2)) / 3);
    await eventually(async () => produced >= at, 60_000);
    await fault(topic);
    t.faults += 1;
    await producing;

    let done = await first.result;
    t.retries += stepRetries(done);
    if (done.code !== 0) {
      expect(done.code, done.stdout + done.stderr).toBe(1);
      expectClearFailure(done);
      // A resumed verify reads from the log end again: it needs new events.
      const again = this.watched(args, cwd);
      t.runs += 1;
      await eventually(async () => again.events().some((e) => e.type === 'step.checked' && e.step === 'flowing'), 60_000);
      await produce(EVENTS);
      done = await again.result;
      t.retries += stepRetries(done);
      if (done.code === 0) t.resumed += 1;
    }
    watch.stop();
    if (done.code === 0) t.completed += 1;
    const state = await stateOf(cwd, run).catch(() => undefined);
    const counted = Number((state?.steps[0]?.outputs as { events?: number } | undefined)?.events ?? 0);
    t.badReads = watch.bad.length;
    // Every event produced since the step (last) began is counted: none missed, none twice.
    t.lost = watch.bad.length + (state ? 0 : 1) + Math.abs(EVENTS - counted);
    put();

    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(counted).toBe(EVENTS);
    expect(watch.bad).toEqual([]);
    expect(state?.status).toBe('completed');
    const kinds = (state?.history ?? []).filter((h) => h.step === 'flowing').map((h) => h.type);
    expect(kinds[0]).toBe('step.started');
    expect(kinds.at(-1)).toBe('step.done');
  }
}
