import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, events, runCli, startCli, unique, workdir } from '../support/cli.js';
import { testKafka, topicPartitions, topicWithBacklog } from '../support/kafka-client.js';

/** Three topics with a wait between them that holds until a real consumer has read a backlog. */
const playbook = `name: crash
params:
  topic: { required: true }
  group: { required: true }
steps:
  - id: create-a
    uses: kafka.topic
    with: { name: "\${{ params.topic }}-a", partitions: 3 }
  - id: drained
    uses: kafka.drain
    with: { topic: "\${{ params.topic }}-backlog", group: "\${{ params.group }}", samples: 2 }
    interval: 200ms
    timeout: 60s
  - id: create-b
    uses: kafka.topic
    with: { name: "\${{ params.topic }}-b", partitions: 2 }
`;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Reads the state file every few milliseconds while a run goes on; records any read that fails to parse. */
function watchStateFile(file: string) {
  const bad: string[] = [];
  let reads = 0;
  const timer = setInterval(() => {
    readFile(file, 'utf8').then(
      (text) => {
        reads += 1;
        try {
          JSON.parse(text);
        } catch {
          bad.push(text);
        }
      },
      () => undefined, // not created yet
    );
  }, 3);
  return { bad, reads: () => reads, stop: () => clearInterval(timer) };
}

async function consumeAll(topic: string, group: string): Promise<() => Promise<void>> {
  const consumer = testKafka().consumer({ groupId: group });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async () => undefined });
  return () => consumer.disconnect();
}

describe('crash and resume, against the real broker', () => {
  it('a run SIGKILLed while a step is running completes when run again; each topic is created once', async () => {
    const topic = unique('crash');
    const group = unique('g');
    await topicWithBacklog(`${topic}-backlog`, [4, 3, 2]);
    const cwd = await workdir({ 'crash.yaml': playbook });
    const stateFile = path.join(cwd, '.migrate', `crash-${topic}.json`);
    const watch = watchStateFile(stateFile);
    const args = ['run', 'crash.yaml', '-p', `topic=${topic}`, '-p', `group=${group}`, '--json'];

    const first = startCli(args, { cwd });
    await eventually(async () => {
      const s = JSON.parse(await readFile(stateFile, 'utf8')) as { steps: { id: string; status: string }[] };
      return s.steps[1]?.status === 'running';
    });
    first.kill('SIGKILL');
    const killed = await first.result;
    expect(killed.signal).toBe('SIGKILL');
    expect(await topicPartitions([`${topic}-a`, `${topic}-b`])).toEqual({ [`${topic}-a`]: 3 });

    cleanups.push(await consumeAll(`${topic}-backlog`, group));
    const second = await runCli(args, { cwd });
    watch.stop();
    expect(second.code, second.stderr).toBe(0);

    const all = [...events(killed.stdout), ...events(second.stdout)];
    const applied = all.filter((e) => e.type === 'step.applied');
    expect(applied.map((e) => e.step)).toEqual(['create-a', 'create-b']);
    expect(applied.every((e) => (e.outputs as { created: boolean }).created)).toBe(true);
    expect(events(second.stdout).find((e) => e.type === 'run.started')).toMatchObject({ resumed: true });
    expect(await topicPartitions([`${topic}-a`, `${topic}-b`])).toEqual({ [`${topic}-a`]: 3, [`${topic}-b`]: 2 });
    expect(watch.reads()).toBeGreaterThan(10);
    expect(watch.bad).toEqual([]);
  });

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

  it('two runs of the same run at once: one proceeds, the other exits 5 naming pid and host', async () => {
    const topic = unique('lock');
    const group = unique('g');
    await topicWithBacklog(`${topic}-backlog`, [2]);
    const cwd = await workdir({ 'crash.yaml': playbook });
    const stateFile = path.join(cwd, '.migrate', `crash-${topic}.json`);
    const args = ['run', 'crash.yaml', '-p', `topic=${topic}`, '-p', `group=${group}`];
    const holder = startCli(args, { cwd });
    cleanups.push(async () => {
      holder.kill('SIGKILL');
      await holder.result;
    });
    await eventually(async () => (JSON.parse(await readFile(stateFile, 'utf8')) as { steps: { status: string }[] }).steps[1]?.status === 'running');

    const other = await runCli(args, { cwd });
    expect(other.code).toBe(5);
    expect(other.stderr).toContain(`locked by pid ${holder.pid} on host ${os.hostname()}`);

    // The holder is unaffected and finishes once the backlog is consumed.
    cleanups.push(await consumeAll(`${topic}-backlog`, group));
    const done = await holder.result;
    expect(done.code, done.stderr).toBe(0);
  });

  it('SIGINT during a wait: exit 130, state saved, and the same command resumes to completion', async () => {
    const topic = unique('sigint');
    const group = unique('g');
    await topicWithBacklog(`${topic}-backlog`, [1, 1]);
    const cwd = await workdir({ 'crash.yaml': playbook });
    const stateFile = path.join(cwd, '.migrate', `crash-${topic}.json`);
    const args = ['run', 'crash.yaml', '-p', `topic=${topic}`, '-p', `group=${group}`];
    const run = startCli(args, { cwd });
    await eventually(async () => (JSON.parse(await readFile(stateFile, 'utf8')) as { steps: { status: string }[] }).steps[1]?.status === 'running');
    run.kill('SIGINT');
    const res = await run.result;
    expect(res.code).toBe(130);
    expect(res.stdout).toMatch(/interrupted during drained; state saved/);
    const saved = JSON.parse(await readFile(stateFile, 'utf8')) as { status: string; steps: { status: string }[] };
    expect(saved.status).toBe('paused');
    expect(saved.steps.map((s) => s.status)).toEqual(['done', 'pending', 'pending']);

    cleanups.push(await consumeAll(`${topic}-backlog`, group));
    const resumed = await runCli(args, { cwd });
    expect(resumed.code, resumed.stderr).toBe(0);
  });
});
