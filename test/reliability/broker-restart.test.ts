// Broker restarts mid-step: a run waiting in kafka.drain (a real group with lag, that a consumer
// then drains) and a run in kafka.verify (events being produced the whole time) each see their
// broker stopped and started again under them. The step rides it out and completes, or fails with
// a clear message and a resume completes; the state file parses at every read and keeps the step's
// history; verify counts every event produced, once.
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type KafkaHandle } from '../../scripts/kafka-lib.mjs';
import { runStateSchema, type RunState } from '../../src/state/run-state.js';
import { events, eventually, startCli, unique, workdir, type CliResult } from '../support/cli.js';
import { exerciseEvent } from '../support/seed-schema.js';
import { report } from './figures.js';
import { STACK_TRACE, watchStateFile } from './support.js';

const { Kafka, logLevel } = kafkajs;

const ROUNDS = Number(process.env.RESTART_ROUNDS ?? 2);
const BACKLOG = 300;
const EVENTS = 80;

const drainPlaybook = `name: drain
params:
  topic: { required: true }
  group: { required: true }
steps:
  - id: drained
    uses: kafka.drain
    with: { topic: "\${{ params.topic }}", group: "\${{ params.group }}", samples: 3 }
    timeout: 3m
    interval: 250ms
`;

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

let broker: KafkaHandle;
let dataDir: string;
let client: InstanceType<typeof Kafka>;
const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'migrate-kafka-restart-'));
  broker = await startKafka({ dataDir });
  // The test's own client: patient enough to ride out the restarts it causes.
  client = new Kafka({
    clientId: 'migrate-tests',
    brokers: [broker.brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 40, initialRetryTime: 200, maxRetryTime: 1000 },
  });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

afterAll(async () => {
  await broker?.stop();
  await rm(dataDir, { recursive: true, force: true });
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function runDir(files: Record<string, string>): Promise<string> {
  const cwd = await workdir(files);
  dirs.push(cwd);
  return cwd;
}

async function createTopic(topic: string, partitions: number): Promise<void> {
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] });
  await admin.disconnect();
}

/** A CLI run whose --json events can be watched as they come. */
function watched(args: string[], cwd: string) {
  const child = startCli([...args, '--json'], { cwd, env: { KAFKA_BROKERS: broker.brokers } });
  cleanups.push(async () => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  return { result: child.result, events: () => events(out) };
}

/** The run's state file, checked against the schema the CLI itself reads it with. */
async function stateOf(cwd: string, run: string): Promise<RunState> {
  return runStateSchema.parse(JSON.parse(await readFile(path.join(cwd, '.migrate', `${run}.json`), 'utf8')));
}

/** What a failed attempt printed must say what happened, in a line, without a stack trace. */
function expectClearFailure(r: CliResult): void {
  const failed = events(r.stdout).find((e) => e.type === 'step.failed');
  expect(failed?.error, r.stdout + r.stderr).toMatch(/Kafka|broker|timed out/);
  expect(r.stdout + r.stderr).not.toMatch(STACK_TRACE);
}

interface Tally {
  runs: number;
  restarts: number;
  completed: number;
  resumed: number;
  lost: number;
  badReads: number;
  /** step.retry events: the restart as the step felt it. */
  retries: number;
}
const tally = (): Tally => ({ runs: 0, restarts: 0, completed: 0, resumed: 0, lost: 0, badReads: 0, retries: 0 });
function row(t: Tally): Record<string, number> {
  return {
    runs: t.runs,
    restarts: t.restarts,
    'step retries': t.retries,
    completed: t.completed,
    'resumed after a failure': t.resumed,
    lost: t.lost,
    'state reads that did not parse': t.badReads,
  };
}
const retries = (...rs: CliResult[]): number => rs.flatMap((r) => events(r.stdout)).filter((e) => e.type === 'step.retry').length;

describe('broker restart during kafka.drain', () => {
  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: the run waiting for a group to drain survives a restart and completes once a consumer drains the topic`, async (ctx) => {
      const t = tally();
      report(ctx, 'broker restart', row(t));
      const topic = unique('restart-drain');
      const group = unique('restart-drain-group');
      await createTopic(topic, 2);
      const producer = client.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: Array.from({ length: BACKLOG }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
      await producer.disconnect();

      const cwd = await runDir({ 'drain.yaml': drainPlaybook });
      const run = `drain-${topic}`;
      const watch = watchStateFile(path.join(cwd, '.migrate', `${run}.json`));
      cleanups.push(async () => watch.stop());
      const args = ['run', 'drain.yaml', '-p', `topic=${topic}`, '-p', `group=${group}`];
      const first = watched(args, cwd);
      t.runs += 1;
      // Waiting, with the whole backlog as lag.
      await eventually(async () => first.events().some((e) => e.type === 'step.progress' && e.step === 'drained'), 60_000);

      // Round 1 restarts while nothing consumes; round 2 while a consumer is half way through.
      const consumed = new Set<string>();
      const consumer = client.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1000, maxWaitTimeInMs: 250 });
      cleanups.push(() => consumer.disconnect());
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
      await broker.restart();
      t.restarts += 1;
      if (round % 2 === 1) await consume(0);

      let done = await first.result;
      t.retries += retries(done);
      if (done.code !== 0) {
        expect(done.code, done.stdout + done.stderr).toBe(1);
        expectClearFailure(done);
        done = await watched(args, cwd).result;
        t.runs += 1;
        t.retries += retries(done);
        if (done.code === 0) t.resumed += 1;
      }
      watch.stop();
      if (done.code === 0) t.completed += 1;
      const state = await stateOf(cwd, run).catch(() => undefined);
      t.badReads = watch.bad.length;
      t.lost = watch.bad.length + (state ? 0 : 1);
      report(ctx, 'broker restart', row(t));

      expect(done.code, done.stdout + done.stderr).toBe(0);
      expect(watch.bad).toEqual([]);
      expect(watch.reads()).toBeGreaterThan(0);
      expect(state?.status).toBe('completed');
      expect(state?.steps).toMatchObject([{ id: 'drained', status: 'done' }]);
      // The history shows the wait: started, lag samples while the backlog stood, done.
      const kinds = (state?.history ?? []).filter((h) => h.step === 'drained').map((h) => h.type);
      expect(kinds[0]).toBe('step.started');
      expect(kinds).toContain('step.progress');
      expect(kinds.at(-1)).toBe('step.done');
      expect(consumed.size).toBeGreaterThanOrEqual(BACKLOG);
    });
  }
});

describe('broker restart during kafka.verify', () => {
  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: verify counts every event produced across the restart, once`, async (ctx) => {
      const t = tally();
      report(ctx, 'broker restart', row(t));
      const topic = unique('restart-verify');
      await createTopic(topic, 2);
      const cwd = await runDir({ 'verify.yaml': verifyPlaybook });
      await cp(new URL('../../examples/schemas', import.meta.url), path.join(cwd, 'schemas'), { recursive: true });
      const run = `verify-${topic}`;
      const watch = watchStateFile(path.join(cwd, '.migrate', `${run}.json`));
      cleanups.push(async () => watch.stop());
      const args = ['run', 'verify.yaml', '-p', `topic=${topic}`];
      const first = watched(args, cwd);
      t.runs += 1;
      // The step has looked once: it reads from the log end of that moment.
      await eventually(async () => first.events().some((e) => e.type === 'step.checked' && e.step === 'flowing'), 60_000);

      // One idempotent producer, one event at a time: each is acknowledged exactly once, restart or not.
      const producer = client.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      cleanups.push(() => producer.disconnect());
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
      // Restart a third (round 1) or two thirds (round 2) of the way through.
      const at = Math.round((EVENTS * (round % 2 === 1 ? 1 : 2)) / 3);
      await eventually(async () => produced >= at, 60_000);
      await broker.restart();
      t.restarts += 1;
      await producing;

      let done = await first.result;
      t.retries += retries(done);
      if (done.code !== 0) {
        expect(done.code, done.stdout + done.stderr).toBe(1);
        expectClearFailure(done);
        // A resumed verify reads from the log end again: it needs new events.
        const again = watched(args, cwd);
        t.runs += 1;
        await eventually(async () => again.events().some((e) => e.type === 'step.checked' && e.step === 'flowing'), 60_000);
        await produce(EVENTS);
        done = await again.result;
        t.retries += retries(done);
        if (done.code === 0) t.resumed += 1;
      }
      watch.stop();
      if (done.code === 0) t.completed += 1;
      const state = await stateOf(cwd, run).catch(() => undefined);
      const counted = Number((state?.steps[0]?.outputs as { events?: number } | undefined)?.events ?? 0);
      t.badReads = watch.bad.length;
      // Every event produced since the step (last) began is counted: none missed, none twice.
      t.lost = watch.bad.length + (state ? 0 : 1) + Math.abs(EVENTS - counted);
      report(ctx, 'broker restart', row(t));

      expect(done.code, done.stdout + done.stderr).toBe(0);
      expect(counted).toBe(EVENTS);
      expect(watch.bad).toEqual([]);
      expect(state?.status).toBe('completed');
      const kinds = (state?.history ?? []).filter((h) => h.step === 'flowing').map((h) => h.type);
      expect(kinds[0]).toBe('step.started');
      expect(kinds.at(-1)).toBe('step.done');
    });
  }
});
