// Crash-resume torture: full sync-to-async runs against the real broker and the demo services,
// each SIGKILLed at a random moment and run again until it completes. Every run must complete,
// create its topic once, flip each flag once, and never leave a state file that does not parse.
// (One kill, one Ctrl-C and the lock, each once, as a user meets them: test/e2e/resume.test.ts.)
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { events, runCli, unique, workdir, type CliResult } from '../support/cli.js';
import { testKafka, topicPartitions } from '../support/kafka-client.js';
import { appliedCounts, flagValues, makeWorld, startCli, startConsumerOf, whenStepRuns, type World } from '../support/procedure.js';
import { watchStateFile } from '../support/run-state.js';
import { report } from './figures.js';
import { inBatches, seededRandom } from './support.js';

const RUNS = Number(process.env.TORTURE_RUNS ?? 30);
const SEED = Number(process.env.TORTURE_SEED ?? Date.now() % 1_000_000);
/** A whole run takes about 4-5 s on two busy cores; kills land uniformly over this window. */
const KILL_FROM_MS = 300;
const KILL_TO_MS = 5_000;
/** Steps that change the world, and must have done so exactly once per run. */
const ONCE = ['create-topic', 'producer-on', 'switch'];

const topics: string[] = [];
afterAll(async () => {
  if (!topics.length) return;
  const admin = testKafka().admin();
  await admin.connect();
  await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
});

function argsFor(w: World): string[] {
  return [
    'run', 'sync-to-async', '--json', '--yes',
    '-p', `topic=${w.topic}`, '-p', `group=${w.group}`, '-p', `flag=${w.flag}`, '-p', `endpoint=${w.endpoint}`,
    '-p', 'kind=func', '-p', 'codePaths=app', '-p', 'minEvents=10',
  ];
}

/** Starts `migrate` and SIGKILLs it after `delayMs` unless it has ended by then. */
async function runKilledAfter(args: string[], cwd: string, delayMs: number): Promise<CliResult> {
  const child = startCli(args, { cwd });
  const timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
  try {
    return await child.result;
  } finally {
    clearTimeout(timer);
  }
}

interface TortureRun {
  completed: boolean;
  /** Kills that landed before the run ended. */
  faults: number;
  attempts: number;
  badReads: number;
  reads: number;
  /** Steps whose apply happened in a killed process after its last event: seen only in the world. */
  unseenApplies: string[];
  problems: string[];
  ms: number;
}

async function tortureRun(kills: number[]): Promise<TortureRun> {
  const started = Date.now();
  const w = await makeWorld('func', { async: false, producer: false });
  topics.push(`datarep.${w.topic}`);
  const run = `sync-to-async-${w.topic}`;
  const stateFile = path.join(w.cwd, '.migrate', `${run}.json`);
  // The team deploys its consumers once the topic exists, whichever attempt created it.
  let consumer: Promise<unknown> | undefined;
  const watch = watchStateFile(stateFile, (s) => {
    if (!consumer && s.steps?.find((st) => st.id === 'create-topic')?.status === 'done') {
      consumer = startConsumerOf(w).then((c) => (w.consumer = c));
    }
  });
  const args = argsFor(w);
  const outputs: CliResult[] = [];
  const problems: string[] = [];
  let faults = 0;
  try {
    for (const delay of kills) {
      const res = await runKilledAfter(args, w.cwd, delay);
      outputs.push(res);
      if (res.signal === 'SIGKILL') faults += 1;
      if (res.code === 0) break;
    }
    for (let again = 0; outputs.at(-1)?.code !== 0 && again < 3; again++) outputs.push(await runCli(args, { cwd: w.cwd }));
    await consumer;
    watch.stop();
    const last = outputs.at(-1) as CliResult;
    const completed = last.code === 0;
    if (!completed) problems.push(`exit ${last.code ?? last.signal}: ${last.stderr.slice(-400)}`);

    // Each step applied at most once; the steps that change the world exactly once, either seen
    // (step.applied) or, when the kill came between the act and its event, found done on resume.
    const applied = appliedCounts(outputs);
    const unseenApplies: string[] = [];
    for (const [step, n] of Object.entries(applied)) if (n > 1) problems.push(`${step} applied ${n} times`);
    for (const step of ONCE) {
      if (applied[step] === 1) continue;
      if (diedInside(outputs, step)) unseenApplies.push(step);
      else problems.push(`${step} applied ${applied[step] ?? 0} times`);
    }
    if (completed) {
      const state = JSON.parse(await readFile(stateFile, 'utf8')) as { status: string };
      if (state.status !== 'completed') problems.push(`state says ${state.status}`);
      const parts = await topicPartitions([`datarep.${w.topic}`]);
      if (parts[`datarep.${w.topic}`] !== 3) problems.push(`topic has ${JSON.stringify(parts)}`);
      const flags = await flagValues(w.flagsFile);
      if (!flags[w.flag] || !flags[w.producerFlag]) problems.push(`flags ${JSON.stringify(flags)}`);
    }
    if (watch.bad.length) problems.push(`${watch.bad.length} state reads did not parse`);
    return { completed, faults, attempts: outputs.length, badReads: watch.bad.length, reads: watch.reads(), unseenApplies, problems, ms: Date.now() - started };
  } finally {
    watch.stop();
    await consumer?.catch(() => undefined);
    await w.stop();
  }
}

/**
 * The kill came while `step` ran and before it said step.applied, and the next attempt found the
 * world already as declared: the act happened once, in the process that died.
 */
function diedInside(outputs: CliResult[], step: string): boolean {
  const i = outputs.findIndex((o) => {
    const evs = events(o.stdout).filter((e) => e.step === step);
    return o.signal === 'SIGKILL' && evs.length > 0 && !evs.some((e) => e.type === 'step.done' || e.type === 'step.applied');
  });
  if (i < 0) return false;
  const resumed = outputs.slice(i + 1).flatMap((o) => events(o.stdout)).find((e) => e.type === 'step.checked' && e.step === step);
  return resumed?.done === true;
}

describe('crash-resume torture, against the real broker and the demo services', () => {
  it(`${RUNS} sync-to-async runs, each SIGKILLed at a random moment and run again until it completes`, async (ctx) => {
    // Drawn up front, so a seed replays the same kills: the first attempt is always killed at a
    // random moment, the second one half of the time; then the run goes on until it completes.
    const random = seededRandom(SEED);
    const plans = Array.from({ length: RUNS }, () => [
      KILL_FROM_MS + random() * (KILL_TO_MS - KILL_FROM_MS),
      ...(random() < 0.5 ? [KILL_FROM_MS + random() * 4_000] : []),
    ]);
    const results = await inBatches(plans, 2, (kills) => tortureRun(kills));
    const completed = results.filter((r) => r.completed).length;
    const faults = results.reduce((n, r) => n + r.faults, 0);
    const killedRuns = results.filter((r) => r.faults > 0).length;
    const problems = results.flatMap((r, i) => r.problems.map((p) => `run ${i + 1}: ${p}`));
    report(ctx, 'crash-resume torture', {
      runs: RUNS,
      'faults injected': faults,
      'runs killed before completion': killedRuns,
      completed,
      lost: RUNS - completed,
      'applied twice': problems.filter((p) => /applied [2-9]/.test(p)).length,
      'applied unseen (killed mid-apply)': results.reduce((n, r) => n + r.unseenApplies.length, 0),
      'state reads': results.reduce((n, r) => n + r.reads, 0),
      unparseable: results.reduce((n, r) => n + r.badReads, 0),
      seed: SEED,
    });
    expect(problems, `seed ${SEED}`).toEqual([]);
    expect(completed).toBe(RUNS);
    // Most runs must have been killed before their end, or this proves little.
    expect(killedRuns).toBeGreaterThanOrEqual(Math.ceil(RUNS * 0.5));
  });

  it('SIGINT while a wait is waiting: exit 130, state saved as paused, and the same command completes', async (ctx) => {
    const runs = 3;
    let interrupted = 0;
    let resumed = 0;
    for (let i = 0; i < runs; i++) {
      const w = await makeWorld('func', { async: false, producer: false });
      topics.push(`datarep.${w.topic}`);
      try {
        const run = `sync-to-async-${w.topic}`;
        const child = startCli(argsFor(w), { cwd: w.cwd });
        // consumers-ready waits for a consumer nobody has started yet.
        await whenStepRuns(w.cwd, run, 'consumers-ready');
        await new Promise((r) => setTimeout(r, 200 + i * 300));
        child.kill('SIGINT');
        const res = await child.result;
        const saved = JSON.parse(await readFile(path.join(w.cwd, '.migrate', `${run}.json`), 'utf8')) as { status: string; pausedAt?: string };
        if (res.code === 130 && saved.status === 'paused' && saved.pausedAt === 'interrupted') interrupted += 1;
        w.consumer = await startConsumerOf(w);
        const again = await runCli(argsFor(w), { cwd: w.cwd });
        if (again.code === 0 && appliedCounts([res, again])['create-topic'] === 1) resumed += 1;
      } finally {
        await w.stop();
      }
    }
    report(ctx, 'SIGINT during a wait', { runs, 'exit 130, paused': interrupted, 'resumed to completion': resumed });
    expect(interrupted).toBe(runs);
    expect(resumed).toBe(runs);
  });
});

// The same faults on a run of topic steps only, killed at fixed moments: small and quick enough
// to point at the engine when the torture above fails.
describe('repeated kills, against the real broker', () => {
  it('killed at random moments again and again, it still completes with every topic created once', async () => {
    const topic = unique('torture');
    const pb = `name: torture\nparams:\n  topic: { required: true }\nsteps:\n${[1, 2, 3, 4, 5]
      .map((i) => `  - id: t${i}\n    uses: kafka.topic\n    with: { name: "\${{ params.topic }}-${i}", partitions: ${i} }\n`)
      .join('')}`;
    const cwd = await workdir({ 'torture.yaml': pb });
    const watch = watchStateFile(path.join(cwd, '.migrate', `torture-${topic}.json`));
    const args = ['run', 'torture.yaml', '-p', `topic=${topic}`, '--json'];
    const outputs: string[] = [];
    for (const delay of [250, 400, 550, 700, 850]) {
      const child = startCli(args, { cwd });
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      const res = await child.result;
      outputs.push(res.stdout);
      if (res.code === 0) break;
    }
    // At least one kill must have landed before the end, or this test proves nothing.
    expect(outputs.filter((o) => !o.includes('"run.finished"')).length).toBeGreaterThan(0);
    const last = await runCli(args, { cwd });
    watch.stop();
    expect(last.code, last.stderr).toBe(0);
    outputs.push(last.stdout);
    const applied = outputs.flatMap(events).filter((e) => e.type === 'step.applied');
    const perStep = new Map<string, number>();
    for (const e of applied) perStep.set(e.step as string, (perStep.get(e.step as string) ?? 0) + 1);
    for (const n of perStep.values()) expect(n).toBe(1);
    // A second create of an existing topic would report created: false.
    expect(applied.every((e) => (e.outputs as { created: boolean }).created)).toBe(true);
    const names = [1, 2, 3, 4, 5].map((i) => `${topic}-${i}`);
    expect(await topicPartitions(names)).toEqual(Object.fromEntries(names.map((n, i) => [n, i + 1])));
    expect(watch.bad).toEqual([]);
  });
});
