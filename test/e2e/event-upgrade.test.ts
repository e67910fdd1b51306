// The built-in event upgrades (event-upgrade: both versions on one topic; event-upgrade-topic-per-
// version: v1 on a topic of its own) end to end against the real broker and the demo services, in
// both kinds: each run is SIGKILLed in a step and run again, and no step is applied twice. For
// kind func, a money fault the demo source injects stops the run at a verify step naming the
// operation (double: and both offsets; lost: the operation with no event), and the run passes once
// the fault is off.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { events, runCli, startCli, unique, workdir, type CliResult } from '../support/cli.js';
import { startConsumer, startSource, writeFlags, type DemoService } from '../support/demo-services.js';
import { kafkaBrokers } from '../support/kafka.js';
import { testKafka } from '../support/kafka-client.js';
import { appliedCounts, flagValues, whenStepRuns } from '../support/procedure.js';
import { exerciseCompletedSchema, exerciseCompletedSchemaV1 } from '../support/seed-schema.js';

type Layout = 'same-topic' | 'topic-per-version';
type Kind = 'func' | 'form';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const playbookOf = (layout: Layout): string => (layout === 'same-topic' ? 'event-upgrade' : 'event-upgrade-topic-per-version');

interface UpgradeWorld {
  cwd: string;
  topic: string;
  group: string;
  flagsFile: string;
  source: DemoService;
  args: string[];
  run: string;
  /** The consumer of the old version's topic (topic-per-version), which retires once it is drained. */
  oldConsumer?: DemoService;
}

/**
 * Today: datarep.<topic> carries v0 (registered), the source publishes it behind `<topic>-v0`, a
 * consumer group reads it, and the team's consumers read both versions (`<topic>-reads-v1` on).
 * The v1 schema waits in next/ to be registered.
 */
async function world(layout: Layout, kind: Kind): Promise<UpgradeWorld> {
  const topic = unique(`up-${layout === 'same-topic' ? 'st' : 'tv'}-${kind}`);
  const group = `${topic}-consumers`;
  const cwd = await workdir();
  await mkdir(path.join(cwd, 'schemas/ExerciseCompleted'), { recursive: true });
  await writeFile(path.join(cwd, 'schemas/ExerciseCompleted/0.json'), JSON.stringify(exerciseCompletedSchema, null, 2));
  await mkdir(path.join(cwd, 'next'));
  await writeFile(path.join(cwd, 'next/ExerciseCompleted-1.json'), JSON.stringify(exerciseCompletedSchemaV1, null, 2));
  await mkdir(path.join(cwd, 'app'));
  await writeFile(path.join(cwd, 'app/consumer.js'), 'export const onEvent = (e) => e.payload; // reads v0 and v1 alike\n');
  const flagsFile = path.join(cwd, 'flags.json');
  await writeFlags(flagsFile, { [`${topic}-producer`]: true, [`${topic}-v0`]: true, [`${topic}-v1`]: false, [`${topic}-reads-v1`]: true, [`${topic}-async`]: layout === 'same-topic' });
  const admin = testKafka().admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: `datarep.${topic}`, numPartitions: 3 }] });
  await admin.disconnect();
  const source = await startSource({
    brokers: kafkaBrokers(),
    topic: `datarep.${topic}`,
    flags: flagsFile,
    producerFlag: `${topic}-producer`,
    kind,
    rate: 40,
    v0Flag: `${topic}-v0`,
    v1Flag: `${topic}-v1`,
    ...(layout === 'topic-per-version' ? { v1Topic: `datarep.${topic}.v1` } : {}),
    completions: kind === 'func',
  });
  cleanups.push(() => source.stop());
  // The old version's readers: in topic-per-version they retire once v0 is off and they read it all.
  const consumer = await startConsumer({
    brokers: kafkaBrokers(),
    topic: `datarep.${topic}`,
    group,
    flags: flagsFile,
    flag: `${topic}-async`,
    source: source.url,
    ...(layout === 'topic-per-version' ? { retireWhenDrained: true, producerFlag: `${topic}-v0` } : {}),
  });
  cleanups.push(() => consumer.stop());
  const playbook = playbookOf(layout);
  const args = [
    'run', playbook, '--json', '--yes',
    '-p', `topic=${topic}`, '-p', `group=${group}`, '-p', `kind=${kind}`,
    '-p', `endpoint=${source.url}/api/v0/exercises`, '-p', `operationsUrl=${source.url}/operations`,
    '-p', 'schema=next/ExerciseCompleted-1.json', '-p', 'compatibility=NONE',
    '-p', 'codePaths=app', '-p', 'fromHandling=event_version === 0',
    // Short waits (the source reads its flags every 200 ms), with room for a loaded machine; 100
    // events (2.5 s at 40/s) leave a fault posted at the verify step's first progress well inside it.
    '-p', 'flagDelay=2s', '-p', 'grace=1s', '-p', 'minEvents=100',
    ...(layout === 'topic-per-version' ? ['-p', 'quietFor=3s'] : []),
  ];
  return { cwd, topic, group, flagsFile, source, args, run: `${playbook}-${topic}`, ...(layout === 'topic-per-version' ? { oldConsumer: consumer } : {}) };
}

/** In topic-per-version, the new version's consumers are deployed once its topic exists (the demo consumer waits for its topic to join). */
async function deployNewConsumers(w: UpgradeWorld): Promise<void> {
  await whenStepRuns(w.cwd, w.run, 'consumers-ready');
  const consumer = await startConsumer({ brokers: kafkaBrokers(), topic: `datarep.${w.topic}.v1`, group: `${w.group}-v1`, flags: w.flagsFile, flag: `${w.topic}-async`, source: w.source.url });
  cleanups.push(() => consumer.stop());
}

async function post(url: string, body: unknown): Promise<number> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.text();
  return res.status;
}

/** Starts the run; once `step` reads (its first progress event), injects `fault` into the source. */
async function runWithFault(w: UpgradeWorld, step: string, fault: 'double' | 'lost', beforeStep?: () => Promise<void>): Promise<CliResult & { error: string }> {
  const cli = startCli(w.args, { cwd: w.cwd });
  cleanups.push(async () => cli.kill('SIGKILL'));
  await beforeStep?.();
  await cli.untilStdout(new RegExp(`"type":"step\\.progress","run":"[^"]+","step":"${step}"`), 120_000);
  expect(await post(`${w.source.url}/admin/fault`, { type: fault })).toBe(202);
  const res = await cli.result;
  const failed = events(res.stdout).find((e) => e.type === 'step.failed');
  expect(failed?.step, res.stdout + res.stderr).toBe(step);
  return { ...res, error: String(failed?.error ?? '') };
}

/** Starts the run and SIGKILLs it once `step` runs. */
async function killedAt(w: UpgradeWorld, step: string, beforeStep?: () => Promise<void>): Promise<CliResult> {
  const cli = startCli(w.args, { cwd: w.cwd });
  cleanups.push(async () => cli.kill('SIGKILL'));
  await beforeStep?.();
  await whenStepRuns(w.cwd, w.run, step, 120_000);
  await new Promise((r) => setTimeout(r, 500));
  cli.kill('SIGKILL');
  const killed = await cli.result;
  expect(killed.signal).toBe('SIGKILL');
  return killed;
}

/** The operation a fault hit, as kafka.verify names it, from the source's log. */
function faultedOperation(source: DemoService, fault: 'double' | 'lost'): string {
  const m = new RegExp(`fault ${fault}: operation (\\[.*?\\])`).exec(source.logs());
  const [exercise, candidate] = JSON.parse(m?.[1] ?? '[]') as string[];
  return `/payload/exercise_id "${exercise}", /payload/candidate_id "${candidate}"`;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Each step that applies did so exactly once across all the runs; the run completed. */
function expectAppliedOnce(outputs: CliResult[], steps: string[]): void {
  const applied = appliedCounts(outputs);
  for (const step of steps) expect(applied[step], `${step} applied ${applied[step] ?? 0} times`).toBe(1);
  expect(Object.values(applied).every((n) => n === 1), JSON.stringify(applied)).toBe(true);
}

async function groupState(group: string): Promise<string | undefined> {
  const admin = testKafka().admin();
  await admin.connect();
  const { groups } = await admin.describeGroups([group]);
  await admin.disconnect();
  return groups[0]?.state;
}

describe('event-upgrade (both versions on one topic), against a real broker and the demo services', { timeout: 240_000 }, () => {
  it('func: SIGKILLed while v1 flows beside v0 and run again; a double operation stops it at only-new, naming the operation and both offsets; then it completes', async () => {
    const w = await world('same-topic', 'func');
    const killed = await killedAt(w, 'new-flows');

    const doubled = await runWithFault(w, 'only-new', 'double');
    expect(doubled.code, doubled.stdout + doubled.stderr).toBe(1);
    expect(events(doubled.stdout).find((e) => e.type === 'run.started')?.resumed).toBe(true);
    const operation = faultedOperation(w.source, 'double');
    expect(doubled.error).toMatch(
      new RegExp(`^operation ${escape(operation)} published twice under different event_ids: at partition (\\d) offset \\d+ and at partition \\1 offset \\d+ \\(event_id [0-9a-f-]{36}, v1\\); a consumer would apply it twice$`),
    );

    const done = await runCli(w.args, { cwd: w.cwd });
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(done.stdout).toMatch(/each of the \d+ operations the source performed from \S+ to \S+ has one event/);
    expectAppliedOnce([killed, doubled, done], ['register-new', 'new-on', 'old-off']);
    expect(await flagValues(w.flagsFile)).toMatchObject({ [`${w.topic}-v0`]: false, [`${w.topic}-v1`]: true });
  });

  it('form: SIGKILLed while v1 flows beside v0 and run again: completes with parity, no step applied twice', async () => {
    const w = await world('same-topic', 'form');
    const killed = await killedAt(w, 'new-flows');
    const done = await runCli(w.args, { cwd: w.cwd });
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(events(done.stdout).find((e) => e.type === 'run.started')?.resumed).toBe(true);
    const onlyNew = events(done.stdout).find((e) => e.type === 'step.done' && e.step === 'only-new');
    expect(String(onlyNew?.summary)).toMatch(/parity 5\/5 keys/);
    expect(String(onlyNew?.summary)).not.toContain('operation');
    expectAppliedOnce([killed, done], ['register-new', 'new-on', 'old-off']);
    expect(await flagValues(w.flagsFile)).toMatchObject({ [`${w.topic}-v0`]: false, [`${w.topic}-v1`]: true });
  });
});

describe('event-upgrade-topic-per-version (v1 on a topic of its own), against a real broker and the demo services', { timeout: 240_000 }, () => {
  it('func: a lost operation stops it at new-flows naming the operation; run again, SIGKILLed while v0 goes quiet, and again: completes, the old readers retired', async () => {
    const w = await world('topic-per-version', 'func');
    const lost = await runWithFault(w, 'new-flows', 'lost', () => deployNewConsumers(w));
    expect(lost.code, lost.stdout + lost.stderr).toBe(1);
    const operation = faultedOperation(w.source, 'lost');
    expect(lost.error).toMatch(
      new RegExp(`^completeness: 1 of the \\d+ operations the source performed from \\S+ to \\S+ have no event on datarep\\.${escape(w.topic)}\\.v1: ${escape(operation)} \\(at \\S+\\); a consumer never applies them$`),
    );

    const killed = await killedAt(w, 'old-quiet');
    const done = await runCli(w.args, { cwd: w.cwd });
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expectAppliedOnce([lost, killed, done], ['register-new', 'new-topic', 'new-on', 'old-off', 'old-retired']);
    expect(await groupState(w.group)).toBe('Dead');
    expect(await groupState(`${w.group}-v1`)).toBe('Stable');
  });

  it('form: SIGKILLed while v0 goes quiet and run again: completes, the old readers retired, no step applied twice', async () => {
    const w = await world('topic-per-version', 'form');
    const killed = await killedAt(w, 'old-quiet', () => deployNewConsumers(w));
    const done = await runCli(w.args, { cwd: w.cwd });
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(events(done.stdout).find((e) => e.type === 'run.started')?.resumed).toBe(true);
    expectAppliedOnce([killed, done], ['register-new', 'new-topic', 'new-on', 'old-off', 'old-retired']);
    expect(await groupState(w.group)).toBe('Dead');
    const health = (await (await fetch(`${w.oldConsumer?.url}/health`)).json()) as { mode: string };
    expect(health.mode).toBe('retired');
  });
});
