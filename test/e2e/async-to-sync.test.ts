import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { testKafka } from '../support/kafka-client.js';
import { appliedCounts, flagValues, makeWorld, startCli, startConsumerOf, whenStepRuns, type World } from '../support/procedure.js';

const worlds: World[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.stop();
});

describe.each(['func', 'form'] as const)('async-to-sync (%s), against a real broker and real services', (kind) => {
  it('runs the seed procedure to completion, SIGKILLed in the middle of a step and run again', async () => {
    // Today the call is asynchronous: the topic exists, the source produces, the consumers read.
    const w = await makeWorld(kind, { async: true, producer: true });
    worlds.push(w);
    const admin = testKafka().admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: `datarep.${w.topic}`, numPartitions: 3 }] });
    await admin.disconnect();
    w.consumer = await startConsumerOf(w, true);

    const run = `async-to-sync-${w.topic}`;
    const args = [
      'run', 'async-to-sync', '--json', '--yes',
      '-p', `topic=${w.topic}`, '-p', `group=${w.group}`, '-p', `flag=${w.flag}`, '-p', `endpoint=${w.endpoint}`,
      '-p', `kind=${kind}`, '-p', 'quietFor=3s',
    ];
    const first = startCli(args, { cwd: w.cwd });
    await whenStepRuns(w.cwd, run, 'producer-quiet');
    await new Promise((r) => setTimeout(r, 1000));
    first.kill('SIGKILL');
    const killed = await first.result;
    expect(killed.signal).toBe('SIGKILL');

    const second = await runCli(args, { cwd: w.cwd });
    expect(second.code, second.stdout + second.stderr).toBe(0);

    // The world ends as the seed says: both flags off, the topic drained, the consumer group gone.
    expect(await flagValues(w.flagsFile)).toEqual({ [w.flag]: false, [w.producerFlag]: false });
    const applied = appliedCounts([killed, second]);
    expect(applied['switch']).toBe(1);
    expect(applied['producer-off']).toBe(1);
    expect(applied['consumers-retired']).toBe(1);
    const check = testKafka().admin();
    await check.connect();
    const { groups } = await check.describeGroups([w.group]);
    await check.disconnect();
    expect(groups[0]?.state).toBe('Dead');
    const health = (await (await fetch(`${w.consumer.url}/health`)).json()) as { mode: string };
    expect(health.mode).toBe('retired');
    expect((await fetch(`${w.endpoint}/ex-1`)).status).toBe(200);
  });
});
