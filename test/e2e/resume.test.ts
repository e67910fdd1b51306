// A run killed (SIGKILL), interrupted (Ctrl-C) or started twice, once each, as a user meets it
// through the CLI: the same command resumes, exit 130 saves the state, the lock refuses with exit 5.
// Repeated and random kills are the reliability suite's (test/reliability/crash-resume.test.ts).
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, events, runCli, startCli, unique, workdir } from '../support/cli.js';
import { testKafka, topicPartitions, topicWithBacklog } from '../support/kafka-client.js';
import { kafkaBrokers } from '../support/kafka.js';
import { whenStepRuns } from '../support/procedure.js';
import { watchStateFile } from '../support/run-state.js';

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

// Ctrl-C while kafkajs is still retrying a call (here: the offsets of a topic that does not
// exist yet, which kafkajs retries on its own) must end the process: the engine saves the run as
// paused at once, and a client call abandoned mid-retry, which reconnects after close(), must not
// hold the process open (it did, for minutes, until bin/migrate stopped waiting for it).
describe('SIGINT while kafkajs retries a call on its own', () => {
  it('exits 130 with the run paused, although a kafkajs retry is still in flight', async () => {
    const topic = unique('not-yet');
    const cwd = await workdir({
      'pb.yaml': `name: quiet-missing\nsteps:\n  - id: quiet\n    uses: kafka.quiet\n    with: { topic: ${topic}, quietFor: 5s }\n    timeout: 2m\n`,
    });
    const cli = startCli(['run', 'pb.yaml'], { cwd, env: { KAFKA_BROKERS: kafkaBrokers().join(',') } });
    await whenStepRuns(cwd, 'quiet-missing', 'quiet');
    await new Promise((r) => setTimeout(r, 500)); // the check is in flight, kafkajs retrying
    cli.kill('SIGINT');
    const res = await cli.result; // before the fix: never within the test's timeout
    expect(res.code, res.stdout + res.stderr).toBe(130);
    const state = JSON.parse(await readFile(path.join(cwd, '.migrate', 'quiet-missing.json'), 'utf8')) as { status: string; steps: { status: string }[] };
    expect(state.status).toBe('paused');
    expect(state.steps[0]?.status).toBe('pending');
  });
});
