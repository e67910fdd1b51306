// The built CLI with `schemas: {source: registry}`: schema.register and kafka.verify against the
// real Apicurio Registry of test/support/registry-setup.ts, and the real broker of global-setup.
// Needs `npm run build` first (the tests run dist/).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';

import { events, runCli, unique, workdir } from '../support/cli.js';
import { makeWorld, startCli, startConsumerOf, whenStepRuns } from '../support/procedure.js';
import { testKafka } from '../support/kafka-client.js';
import { kafkaBrokers } from '../support/kafka.js';
import { registerPlaybook as registerPlaybookFor } from '../support/playbooks.js';
import { exerciseCompletedSchema, exerciseEvent } from '../support/seed-schema.js';

const url = inject('schemaRegistryUrl');

/** A working directory whose schemas live in the registry: the file to register sits outside any schemas/ dir. */
async function registryWorld(playbook: string): Promise<string> {
  const cwd = await workdir({
    'migrate.config.yaml': `schemas:\n  source: registry\n  registry:\n    url: ${url}\n`,
    'exercise-completed.json': JSON.stringify(exerciseCompletedSchema, null, 2),
    'playbook.yaml': playbook,
  });
  return cwd;
}

const env = () => ({ KAFKA_BROKERS: kafkaBrokers().join(','), MIGRATE_SCHEMA_REGISTRY_URL: undefined });

async function subjectVersions(subject: string): Promise<number[]> {
  const res = await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions`);
  return res.status === 404 ? [] : ((await res.json()) as number[]);
}

const registerPlaybook = registerPlaybookFor('exercise-completed.json');

describe('migrate run with schemas in a registry', () => {
  it('schema.register: exit 0, the schema id in status --json and the state; a re-run registers nothing', async () => {
    const topic = unique('reg-cli');
    const cwd = await registryWorld(registerPlaybook);
    const res = await runCli(['run', 'playbook.yaml', '-p', `topic=${topic}`, '--json'], { cwd, env: env() });
    expect(res.code, res.stdout + res.stderr).toBe(0);

    const subject = `datarep.${topic}-value`;
    const held = await subjectVersions(subject);
    expect(held).toEqual([1]);
    const { id } = (await (await fetch(`${url}/subjects/${subject}/versions/1`)).json()) as { id: number };

    const status = await runCli(['status', `register-${topic}`, '--json'], { cwd, env: env() });
    expect(status.code, status.stderr).toBe(0);
    const step = (JSON.parse(status.stdout) as { status: string; steps: { id: string; status: string; outputs?: Record<string, unknown> }[] }).steps[0];
    expect(step).toMatchObject({ id: 'register-schema', status: 'done' });
    expect(step?.outputs).toEqual({ event: 'ExerciseCompleted', version: 0, id, subject, registryVersion: 1, location: `${url}/subjects/${subject}/versions/1` });
    const state = JSON.parse(await readFile(path.join(cwd, '.migrate', `register-${topic}.json`), 'utf8')) as unknown;
    expect(JSON.stringify(state)).toContain(`"id":${id}`);

    // The same run again, and a new run of the same playbook: both converge without registering.
    const again = await runCli(['run', 'playbook.yaml', '-p', `topic=${topic}`, '--json'], { cwd, env: env() });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const fresh = await runCli(['run', 'playbook.yaml', '-p', `topic=${topic}`, '--name', 'second', '--json'], { cwd, env: env() });
    expect(fresh.code, fresh.stdout + fresh.stderr).toBe(0);
    const seen = events(fresh.stdout);
    expect(seen.find((e) => e.type === 'step.done' && e.step === 'register-schema')).toMatchObject({ alreadyDone: true });
    expect(seen.filter((e) => e.type === 'step.applied')).toEqual([]);
    const second = await runCli(['status', 'second', '--json'], { cwd, env: env() });
    expect((JSON.parse(second.stdout) as { steps: { outputs?: Record<string, unknown> }[] }).steps[0]?.outputs).toMatchObject({ id, registryVersion: 1 });
    expect(await subjectVersions(subject)).toEqual([1]);
  });

  it('a v1 the registry refuses: exit 1 quoting the registry, nothing registered', async () => {
    const topic = unique('reg-cli');
    const cwd = await registryWorld(registerPlaybook);
    expect((await runCli(['run', 'playbook.yaml', '-p', `topic=${topic}`], { cwd, env: env() })).code).toBe(0);
    const v1 = structuredClone(exerciseCompletedSchema) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    v1.properties.event_version = { enum: [1] };
    await writeFile(path.join(cwd, 'v1.json'), JSON.stringify(v1));
    await writeFile(
      path.join(cwd, 'v1.yaml'),
      registerPlaybook.replace('name: register', 'name: register-v1').replace('version: 0, file: exercise-completed.json', 'version: 1, file: v1.json'),
    );
    const res = await runCli(['run', 'v1.yaml', '-p', `topic=${topic}`], { cwd, env: env() });
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).toContain(`the registry at ${url} refused ExerciseCompleted v1 as incompatible with subject datarep.${topic}-value: Incompatible artifact`);
    expect(res.stdout + res.stderr).toMatch(/Enum type values member removed at \/properties\/event_version\/enum/);
    expect(await subjectVersions(`datarep.${topic}-value`)).toEqual([1]);
  });

  it("kafka.verify validates real events on a real topic against the registry's schema", async () => {
    const topic = unique('reg-verify');
    const playbook = `${registerPlaybook.replace('name: register', 'name: verify')}  - id: events-flow
    uses: kafka.verify
    with: { topic: "datarep.\${{ params.topic }}", event: ExerciseCompleted, version: 0, minEvents: 4, from: earliest }
    interval: 200ms
    timeout: 60s
`;
    const admin = testKafka().admin();
    await admin.connect();
    const good = `datarep.${topic}`;
    const bad = `datarep.${topic}-bad`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: good, numPartitions: 1 }, { topic: bad, numPartitions: 1 }] });
    await admin.disconnect();
    const producer = testKafka().producer();
    await producer.connect();
    const send = (t: string, values: unknown[]) => producer.send({ topic: t, messages: values.map((v, i) => ({ key: `k${i}`, value: JSON.stringify(v) })) });
    await send(good, ['a', 'b', 'c', 'd'].map((k) => exerciseEvent(k)));
    const wrong = exerciseEvent('x');
    await send(bad, [exerciseEvent('y'), { ...wrong, payload: { ...wrong.payload, title: 42 } }]);
    await producer.disconnect();

    const cwd = await registryWorld(playbook);
    const ok = await runCli(['run', 'playbook.yaml', '-p', `topic=${topic}`, '--json'], { cwd, env: env() });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/"summary":"4 new events \(need 4\), all valid, no duplicate event_id"/);

    // The bad topic: its subject gets the same schema, and the second event breaks it.
    const failed = await runCli(['run', 'playbook.yaml', '-p', `topic=${topic}-bad`, '--json'], { cwd, env: env() });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/event at partition 0 offset 1 fails the schema ExerciseCompleted v0 at \/payload\/title/);
  });

  it('kafka.verify with no schema under <topic>-value: exit 1 naming the missing subject', async () => {
    const topic = unique('reg-none');
    const admin = testKafka().admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: `datarep.${topic}`, numPartitions: 1 }] });
    await admin.disconnect();
    const cwd = await registryWorld(`name: verify-only
params:
  topic: { required: true }
steps:
  - id: events-flow
    uses: kafka.verify
    with: { topic: "datarep.\${{ params.topic }}", event: ExerciseCompleted, version: 0, minEvents: 1 }
    timeout: 10s
`);
    const res = await runCli(['run', 'playbook.yaml', '-p', `topic=${topic}`], { cwd, env: env() });
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).toContain(
      `schema ExerciseCompleted v0 is not registered (subject datarep.${topic}-value does not exist in schema registry ${url}); register it first (schema.register)`,
    );
  });

  it('migrate doctor reaches the registry and counts its subjects', async () => {
    const cwd = await registryWorld(registerPlaybook);
    const res = await runCli(['doctor', '--json'], { cwd, env: env() });
    const report = JSON.parse(res.stdout) as { checks: { name: string; status: string; message: string }[] };
    const schemas = report.checks.find((c) => c.name === 'schemas');
    expect(schemas?.status).toBe('ok');
    expect(schemas?.message).toMatch(new RegExp(`^schema registry ${url}: \\d+ subjects?$`));
  });

  it('the built-in sync-to-async playbook runs to completion with its schema in the registry', async () => {
    const w = await makeWorld('func', { async: false, producer: false });
    try {
      await writeFile(path.join(w.cwd, 'migrate.config.yaml'), `schemas:\n  source: registry\n  registry:\n    url: ${url}\n`);
      const run = `sync-to-async-${w.topic}`;
      const args = ['run', 'sync-to-async', '--json', '--yes', '-p', `topic=${w.topic}`, '-p', `group=${w.group}`, '-p', `flag=${w.flag}`, '-p', `endpoint=${w.endpoint}`, '-p', 'codePaths=app', '-p', 'minEvents=20'];
      const cli = startCli(args, { cwd: w.cwd, env: env() });
      await whenStepRuns(w.cwd, run, 'consumers-ready');
      w.consumer = await startConsumerOf(w);
      const res = await cli.result;
      expect(res.code, res.stdout + res.stderr).toBe(0);
      const subject = `datarep.${w.topic}-value`;
      expect(await subjectVersions(subject)).toEqual([1]);
      const applied = events(res.stdout).find((e) => e.type === 'step.applied' && e.step === 'register-schema');
      expect(applied?.outputs).toMatchObject({ subject, registryVersion: 1, id: expect.any(Number) });
    } finally {
      await w.stop();
    }
  });
});
