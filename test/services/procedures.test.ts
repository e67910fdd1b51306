// The built-in playbooks end to end with the team's real flag service and schema registry: flags
// in Unleash (switched through its admin API, waited on through its client API until applications
// are served the new value), the event schema in Apicurio Registry under <topic>-value, the demo
// services reading their flags from Unleash. sync-to-async is SIGKILLed in the middle and run
// again; then async-to-sync takes the same world back.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, events, runCli } from '../support/cli.js';
import { testKafka, topicPartitions } from '../support/kafka-client.js';
import { appliedCounts, makeWorld, startCli, startConsumerOf, whenStepRuns, worldFlags, type World } from '../support/procedure.js';
import { eventCount } from '../support/unleash-admin.js';

const worlds: World[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.stop();
});

function registryUrl(): string {
  const url = process.env.MIGRATE_SCHEMA_REGISTRY_URL;
  if (!url) throw new Error('MIGRATE_SCHEMA_REGISTRY_URL is not set: is test/support/registry-setup.ts the globalSetup?');
  return url;
}

const config = (): string =>
  [
    'flags:',
    '  provider: unleash',
    `  unleash: { url: "${process.env.UNLEASH_URL ?? ''}", project: default, environment: development }`,
    '  propagation: { unleash: true }',
    'schemas:',
    '  source: registry',
    `  registry: { url: "${registryUrl()}" }`,
    '',
  ].join('\n');

describe('the built-in playbooks with flags in Unleash and schemas in a Confluent-compatible registry', () => {
  it('sync-to-async (SIGKILLed and resumed), then async-to-sync, switch each flag once', { timeout: 300_000 }, async () => {
    const w = await makeWorld('func', { async: false, producer: false }, { flagsIn: 'unleash' });
    worlds.push(w);
    await writeFile(path.join(w.cwd, 'migrate.config.yaml'), config());
    const topic = `datarep.${w.topic}`;
    const common = ['-p', `topic=${w.topic}`, '-p', `group=${w.group}`, '-p', `flag=${w.flag}`, '-p', `endpoint=${w.endpoint}`];

    // -- sync -> async, killed while it verifies that events flow, then run again --
    const toAsync = ['run', 'sync-to-async', '--json', '--yes', ...common, '-p', 'codePaths=app', '-p', 'minEvents=20'];
    const run = `sync-to-async-${w.topic}`;
    const first = startCli(toAsync, { cwd: w.cwd });
    await whenStepRuns(w.cwd, run, 'consumers-ready');
    w.consumer = await startConsumerOf(w);
    await whenStepRuns(w.cwd, run, 'events-flow');
    first.kill('SIGKILL');
    const killed = await first.result;
    expect(killed.signal).toBe('SIGKILL');
    const second = await runCli(toAsync, { cwd: w.cwd });
    expect(second.code, second.stdout + second.stderr).toBe(0);

    expect(await topicPartitions([topic])).toEqual({ [topic]: 3 });
    expect(await worldFlags(w)).toEqual({ [w.flag]: true, [w.producerFlag]: true });
    const applied = appliedCounts([killed, second]);
    expect(applied['create-topic']).toBe(1);
    expect(applied['register-schema']).toBe(1);
    expect(applied['producer-on']).toBe(1);
    expect(applied['switch']).toBe(1);
    // The schema id is recorded in the run, and it is the registry's id of the subject's version 1.
    const registered = [...events(killed.stdout), ...events(second.stdout)].find((e) => e.type === 'step.applied' && e.step === 'register-schema');
    const subject = `${topic}-value`;
    const latest = (await (await fetch(`${registryUrl()}/subjects/${subject}/versions/latest`)).json()) as { id: number; version: number };
    expect(latest.version).toBe(1);
    expect(registered?.outputs).toMatchObject({ subject, id: latest.id });
    // "switched" waited for Unleash's client API: the switch step says the evaluator serves it.
    const switched = events(second.stdout).find((e) => e.type === 'step.done' && e.step === 'switch');
    expect(String(switched?.summary)).toMatch(/serves it/);
    // The consumer, polling its flag from Unleash's client API, goes asynchronous on its next poll.
    const consumerUrl = w.consumer.url;
    const mode = async () => ((await (await fetch(`${consumerUrl}/health`)).json()) as { mode: string }).mode;
    await eventually(async () => (await mode()) === 'async', 10_000);
    expect(await mode()).toBe('async');

    // -- async -> sync: the same world back; the consumer retires itself once drained --
    await w.consumer.stop();
    w.consumer = await startConsumerOf(w, true);
    const writesBefore = { flag: await eventCount(w.flag), producer: await eventCount(w.producerFlag) };
    const toSync = ['run', 'async-to-sync', '--json', '--yes', ...common, '-p', 'quietFor=3s'];
    const back = await runCli(toSync, { cwd: w.cwd });
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(await worldFlags(w)).toEqual({ [w.flag]: false, [w.producerFlag]: false });
    const appliedBack = appliedCounts([back]);
    expect(appliedBack['switch']).toBe(1);
    expect(appliedBack['producer-off']).toBe(1);
    expect(appliedBack['consumers-retired']).toBe(1);
    // One switch each: Unleash recorded exactly one write per flag (the environment turned off).
    expect(await eventCount(w.flag)).toBe(writesBefore.flag + 1);
    expect(await eventCount(w.producerFlag)).toBe(writesBefore.producer + 1);
    const admin = testKafka().admin();
    await admin.connect();
    const { groups } = await admin.describeGroups([w.group]);
    await admin.disconnect();
    expect(groups[0]?.state).toBe('Dead');
    expect((await fetch(`${w.endpoint}/ex-1`)).status).toBe(200);

    // Neither token is anywhere in what the runs printed or left behind.
    const outputs = [killed, second, back].map((r) => r.stdout + r.stderr).join('\n');
    for (const token of [process.env.UNLEASH_API_TOKEN, process.env.UNLEASH_CLIENT_TOKEN]) {
      expect(token).toBeTruthy();
      expect(outputs).not.toContain(token);
    }
  });
});
