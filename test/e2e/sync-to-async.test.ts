import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { testKafka, topicPartitions } from '../support/kafka-client.js';
import { appliedCounts, flagValues, makeWorld, startCli, startConsumerOf, whenStepRuns, type World } from '../support/procedure.js';

const worlds: World[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.stop();
});

describe.each(['func', 'form'] as const)('sync-to-async (%s), against a real broker and real services', (kind) => {
  it('runs the seed procedure to completion, SIGKILLed in the middle of a step and run again', async () => {
    const w = await makeWorld(kind, { async: false, producer: false });
    worlds.push(w);
    const run = `sync-to-async-${w.topic}`;
    const args = [
      'run', 'sync-to-async', '--json', '--yes',
      '-p', `topic=${w.topic}`, '-p', `group=${w.group}`, '-p', `flag=${w.flag}`, '-p', `endpoint=${w.endpoint}`,
      '-p', `kind=${kind}`, '-p', 'codePaths=app', '-p', 'minEvents=20',
    ];
    const first = startCli(args, { cwd: w.cwd });
    // The team deploys its consumers once the topic exists, while migrate waits for them.
    await whenStepRuns(w.cwd, run, 'consumers-ready');
    w.consumer = await startConsumerOf(w);
    await whenStepRuns(w.cwd, run, 'events-flow');
    await new Promise((r) => setTimeout(r, 500));
    first.kill('SIGKILL');
    const killed = await first.result;
    expect(killed.signal).toBe('SIGKILL');

    const second = await runCli(args, { cwd: w.cwd });
    expect(second.code, second.stdout + second.stderr).toBe(0);

    // The world ends as the seed says: topic created, both flags on, consumers up, endpoint healthy.
    expect(await topicPartitions([`datarep.${w.topic}`])).toEqual({ [`datarep.${w.topic}`]: 3 });
    expect(await flagValues(w.flagsFile)).toEqual({ [w.flag]: true, [w.producerFlag]: true });
    const applied = appliedCounts([killed, second]);
    expect(applied['create-topic']).toBe(1);
    expect(applied['producer-on']).toBe(1);
    expect(applied['switch']).toBe(1);
    const admin = testKafka().admin();
    await admin.connect();
    const { groups } = await admin.describeGroups([w.group]);
    await admin.disconnect();
    expect(groups[0]?.state).toBe('Stable');
    const health = (await (await fetch(`${w.consumer.url}/health`)).json()) as { mode: string };
    expect(health.mode).toBe('async');
    expect((await fetch(`${w.endpoint}/ex-1`)).status).toBe(200);
  });
});
