// The shared run store end to end: the built CLI as separate processes (separate working
// directories, as two CI runners would be), state and locks on a real broker.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startKafka } from '../../scripts/kafka-lib.mjs';
import { connectRunLog } from '../../src/adapters/kafka-connect.js';
import { KafkaRunStore } from '../../src/state/kafka-store.js';
import { events, eventually, runCli, startCli, unique, workdir, type CliResult } from '../support/cli.js';
import { testKafka, topicPartitions } from '../support/kafka-client.js';

/** A topic, then a wait held open by a marker file the test controls, then another topic. */
const slowPlaybook = `name: slow
params:
  topic: { required: true }
  marker: { required: true }
steps:
  - id: create-a
    uses: kafka.topic
    with: { name: "\${{ params.topic }}-a", partitions: 1 }
  - id: held
    uses: code.absent
    with: { pattern: "HOLD", paths: ["\${{ params.marker }}"] }
    timeout: 2m
    interval: 100ms
  - id: create-b
    uses: kafka.topic
    with: { name: "\${{ params.topic }}-b", partitions: 1 }
`;

/** A topic, a gate, a topic. */
const gatedPlaybook = `name: gated
params:
  topic: { required: true }
steps:
  - id: create-a
    uses: kafka.topic
    with: { name: "\${{ params.topic }}-a", partitions: 1 }
  - id: go
    uses: confirm
    with: { message: Go on? }
  - id: create-b
    uses: kafka.topic
    with: { name: "\${{ params.topic }}-b", partitions: 2 }
`;

const SESSION_MS = 6000;

/** Topics of this file's own, so its runs share a store with nobody else's. */
const stateTopic = unique('e2e-runs');
const lockTopic = unique('e2e-locks');

function config(store: 'file' | 'kafka'): string {
  return `state:\n  store: ${store}\n  topic: ${stateTopic}\n  lockTopic: ${lockTopic}\n  sessionTimeout: ${SESSION_MS / 1000}s\n`;
}

/** A working directory of its own: another checkout, another CI runner. */
function runner(files: Record<string, string>, store: 'file' | 'kafka' = 'kafka'): Promise<string> {
  return workdir({ 'migrate.config.yaml': config(store), ...files });
}

/** A CLI process whose stdout can be watched while it runs. */
function watched(args: string[], cwd: string, env: Record<string, string> = {}) {
  const child = startCli(args, { cwd, env });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, result: child.result, events: () => events(out) };
}

/**
 * Pipeline A, in a runner directory of its own, started on the slow playbook and held in its
 * `held` step until `release()`.
 */
async function heldRun(prefix: string, env: Record<string, string> = {}) {
  const topic = unique(prefix);
  const marker = path.join(await workdir({ 'marker.txt': 'HOLD\n' }), 'marker.txt');
  const args = ['run', 'slow.yaml', '-p', `topic=${topic}`, '-p', `marker=${marker}`, '--json'];
  const cwd = await runner({ 'slow.yaml': slowPlaybook });
  const a = watched(args, cwd, env);
  children.push(a.child);
  await eventually(async () => a.events().some((e) => e.type === 'step.started' && e.step === 'held'), 60_000);
  return { topic, args, cwd, a, release: () => writeFile(marker, 'released\n') };
}

function appliedSteps(...outputs: CliResult[]): string[] {
  return outputs.flatMap((o) => events(o.stdout)).filter((e) => e.type === 'step.applied').map((e) => e.step as string);
}

const children: ReturnType<typeof startCli>[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of cleanups.splice(0)) await c();
});

describe('two pipelines driving one run through the Kafka store', () => {
  it('one proceeds; the other, in another directory, exits 5 naming the holder', async () => {
    const { topic, args, a, release } = await heldRun('contend');
    const cwdB = await runner({ 'slow.yaml': slowPlaybook });

    const b = await runCli(args, { cwd: cwdB });
    expect(b.code, b.stderr).toBe(5);
    expect(b.stderr).toContain(`run slow-${topic} is locked by pid ${a.child.pid} on host ${os.hostname()}`);
    expect(events(b.stdout).find((e) => e.type === 'error')).toMatchObject({ error: 'RunLockedError', exitCode: 5 });

    await release();
    const done = await a.result;
    expect(done.code, done.stderr).toBe(0);
    // Both directories see the one shared run.
    const status = await runCli(['status', `slow-${topic}`, '--json'], { cwd: cwdB });
    expect(JSON.parse(status.stdout)).toMatchObject({ status: 'completed' });
  });

  it('the holder SIGKILLed: a waiting pipeline takes the lock within the session timeout and completes the run', async () => {
    const { topic, args, a, release } = await heldRun('takeover');
    const run = `slow-${topic}`;
    const cwdB = await runner({ 'slow.yaml': slowPlaybook });

    const b = watched([...args, '--wait-lock', '60s'], cwdB);
    children.push(b.child);
    // B is in the lock group, waiting behind A.
    const admin = testKafka().admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    const group = `migrate-lock-${lockTopic}-${run}`;
    await eventually(async () => (await admin.describeGroups([group])).groups[0]?.members.length === 2, 30_000);
    expect(b.events()).toEqual([]);

    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    expect((await a.result).signal).toBe('SIGKILL');
    await release();

    await eventually(async () => b.events().some((e) => e.type === 'run.started'), 30_000, 20);
    const tookOver = Date.now() - killedAt;
    const done = await b.result;
    expect(done.code, done.stderr).toBe(0);
    // The group notices the silent holder after its session timeout; a rebalance then hands B the lock.
    expect(tookOver).toBeLessThan(SESSION_MS + 3000);
    expect(events(done.stdout).find((e) => e.type === 'run.started')).toMatchObject({ resumed: true });
    expect(events(done.stdout).find((e) => e.type === 'run.finished')).toMatchObject({ status: 'completed' });
    // Resumed from A's state: the step A finished is not started again; the one it was in is re-checked.
    expect(events(done.stdout).filter((e) => e.type === 'step.started').map((e) => e.step)).toEqual(['held', 'create-b']);
    expect(appliedSteps(await a.result, done)).toEqual(['create-a', 'create-b']);
  });
});

describe('state on a broker that restarts', () => {
  let broker: Awaited<ReturnType<typeof startKafka>>;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'migrate-kafka-restart-'));
    broker = await startKafka({ dataDir });
  });
  afterAll(async () => {
    await broker?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('survives the restart: the run resumes from the state read back from Kafka; each step.done is already in the topic', async () => {
    const env = { KAFKA_BROKERS: broker.brokers };
    const topic = unique('restart');
    const run = `gated-${topic}`;
    const cwd = await runner({ 'gated.yaml': gatedPlaybook });

    const first = await runCli(['run', 'gated.yaml', '-p', `topic=${topic}`, '--json'], { cwd, env });
    expect(first.code, first.stderr).toBe(3);

    await broker.restart();

    const status = await runCli(['status', run, '--json'], { cwd, env });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      status: 'paused',
      steps: [
        { id: 'create-a', status: 'done' },
        { id: 'go', status: 'waiting' },
        { id: 'create-b', status: 'pending' },
      ],
    });

    // Read the state topic the moment each step.done appears: the state saying so must be there already.
    const reader = new KafkaRunStore(() => connectRunLog({ brokers: [broker.brokers], clientId: 'migrate-e2e' }), {
      topic: stateTopic,
      lockTopic,
      sessionTimeoutMs: SESSION_MS,
      where: broker.brokers,
    });
    const second = watched(['run', 'gated.yaml', '--name', run, '--approve', 'go', '--json'], cwd, env);
    children.push(second.child);
    const inTopic: Record<string, string | undefined> = {};
    const checks: Promise<void>[] = [];
    second.child.stdout?.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n').filter((l) => l.includes('"step.done"'))) {
        const step = (JSON.parse(line) as { step: string }).step;
        checks.push(reader.read(run).then((s) => void (inTopic[step] = s?.steps.find((x) => x.id === step)?.status)));
      }
    });
    const done = await second.result;
    await Promise.all(checks);
    expect(done.code, done.stderr).toBe(0);
    expect(events(done.stdout).find((e) => e.type === 'run.started')).toMatchObject({ resumed: true });
    expect(inTopic).toEqual({ go: 'done', 'create-b': 'done' });
    expect(appliedSteps(first, done)).toEqual(['create-a', 'create-b']);
    expect((await reader.read(run))?.status).toBe('completed');
  });

  it('a run holding its lock while the broker restarts goes on and completes', async () => {
    const env = { KAFKA_BROKERS: broker.brokers };
    const { topic, cwd, a, release } = await heldRun('midrun', env);

    await broker.restart();
    await release();
    const done = await a.result;
    expect(done.code, done.stderr).toBe(0);
    expect(appliedSteps(done)).toEqual(['create-a', 'create-b']);
    const status = await runCli(['status', `slow-${topic}`, '--json'], { cwd, env });
    expect(JSON.parse(status.stdout)).toMatchObject({ status: 'completed' });
  });
});

describe('migrate state export | import', () => {
  it('moves a paused run from the file store to Kafka, where it resumes; and back', async () => {
    const topic = unique('move');
    const run = `gated-${topic}`;
    const fileCwd = await runner({ 'gated.yaml': gatedPlaybook }, 'file');
    const first = await runCli(['run', 'gated.yaml', '-p', `topic=${topic}`, '--json'], { cwd: fileCwd });
    expect(first.code, first.stderr).toBe(3);

    const exported = await runCli(['state', 'export', run, '--to', 'kafka', '--json'], { cwd: fileCwd });
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ type: 'state.exported', run, status: 'paused', replaced: null });

    // Another runner, on the Kafka store, resumes it.
    const kafkaCwd = await runner({ 'gated.yaml': gatedPlaybook });
    const resumed = await runCli(['run', 'gated.yaml', '--name', run, '--approve', 'go', '--json'], { cwd: kafkaCwd });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(events(resumed.stdout).filter((e) => e.type === 'step.started').map((e) => e.step)).toEqual(['create-b']);
    expect(await topicPartitions([`${topic}-a`, `${topic}-b`])).toEqual({ [`${topic}-a`]: 1, [`${topic}-b`]: 2 });

    // The file store's copy is now older than Kafka's: exporting it again would lose the resumed run.
    const stale = await runCli(['state', 'export', run, '--to', 'kafka'], { cwd: fileCwd });
    expect(stale.code).toBe(2);
    expect(stale.stderr).toMatch(/was updated at .*, after the copy being moved/);
    expect(stale.stderr).toContain('--force');

    // Back: the file store takes Kafka's newer copy (it replaces the older one there).
    const imported = await runCli(['state', 'import', run, '--from', 'kafka', '--json'], { cwd: fileCwd });
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ type: 'state.imported', run, status: 'completed', replaced: { status: 'paused' } });
    const local = JSON.parse(await readFile(path.join(fileCwd, '.migrate', `${run}.json`), 'utf8')) as { status: string };
    expect(local.status).toBe('completed');
  });

  it('moves a paused run from Kafka to a file and into another runner\'s file store, where it resumes', async () => {
    const topic = unique('tofile');
    const run = `gated-${topic}`;
    const kafkaCwd = await runner({ 'gated.yaml': gatedPlaybook });
    expect((await runCli(['run', 'gated.yaml', '-p', `topic=${topic}`], { cwd: kafkaCwd })).code).toBe(3);

    const out = await runCli(['state', 'export', run, '--out', 'run.json'], { cwd: kafkaCwd });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(new RegExp(`^Exported run ${run} \\(paused, updated .*\\) from Kafka topic ${stateTopic} at .* to run\\.json`));

    const fileCwd = await runner({ 'gated.yaml': gatedPlaybook }, 'file');
    await writeFile(path.join(fileCwd, 'run.json'), await readFile(path.join(kafkaCwd, 'run.json')));
    const imported = await runCli(['state', 'import', 'run.json'], { cwd: fileCwd });
    expect(imported.code, imported.stderr).toBe(0);

    const resumed = await runCli(['run', 'gated.yaml', '--name', run, '--approve', 'go', '--json'], { cwd: fileCwd });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(events(resumed.stdout).filter((e) => e.type === 'step.started').map((e) => e.step)).toEqual(['create-b']);

    // Importing the older copy again is refused, unless forced.
    expect((await runCli(['state', 'import', 'run.json'], { cwd: fileCwd })).code).toBe(2);
    const forced = await runCli(['state', 'import', 'run.json', '--force', '--json'], { cwd: fileCwd });
    expect(forced.code, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ status: 'paused', replaced: { status: 'completed' } });
  });

  it('refuses to move a run that another process is driving (exit 5)', async () => {
    const { topic, cwd, a, release } = await heldRun('busy');
    const res = await runCli(['state', 'export', `slow-${topic}`, '--to', 'file'], { cwd });
    expect(res.code, res.stderr).toBe(5);
    expect(res.stderr).toContain(`locked by pid ${a.child.pid}`);
    await release();
    expect((await a.result).code).toBe(0);
  });
});
