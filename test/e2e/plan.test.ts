import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { groupIds, testKafka, topicPartitions } from '../support/kafka-client.js';
import { makeWorld, type World } from '../support/procedure.js';

const worlds: World[] = [];
afterEach(async () => {
  for (const w of worlds.splice(0)) await w.stop();
});

const planArgs = (w: World, ...extra: string[]) => [
  'plan', 'sync-to-async',
  '-p', `topic=${w.topic}`, '-p', `group=${w.group}`, '-p', `flag=${w.flag}`, '-p', `endpoint=${w.endpoint}`, '-p', 'codePaths=app',
  ...extra,
];

interface PlanJson {
  playbook: string;
  params: Record<string, string>;
  steps: { id: string; uses: string; verdict: string; reason: string; differences?: string[]; after?: string[] }[];
}


describe('migrate plan, against a real broker and the demo services', () => {
  it('says what each step of sync-to-async would do, and changes nothing: no topic, no flag write, no state, no group', async () => {
    const w = await makeWorld('func', { async: false, producer: false });
    worlds.push(w);
    const flagsBefore = await readFile(w.flagsFile);
    const groupsBefore = new Set(await groupIds());

    const res = await runCli(planArgs(w, '--json'), { cwd: w.cwd });
    expect(res.code, res.stderr).toBe(0);
    const plan = JSON.parse(res.stdout) as PlanJson;
    expect(plan.playbook).toBe('sync-to-async');
    expect(plan.params).toMatchObject({ topic: w.topic, group: w.group, kind: 'func' });
    expect(plan.steps.map((s) => [s.id, s.verdict])).toEqual([
      ['create-topic', 'would act'],
      ['register-schema', 'satisfied'],
      ['consumers-ready', 'cannot check'],
      ['producer-flag', 'satisfied'],
      ['producer-on', 'would act'],
      ['events-flow', 'cannot check'],
      ['approve-switch', 'cannot check'],
      ['switch', 'would act'],
      ['async-healthy', 'cannot check'],
      ['sync-call-removed', 'satisfied'],
      ['endpoint-healthy', 'would wait'],
    ]);
    const step = (id: string) => plan.steps.find((s) => s.id === id);
    expect(step('create-topic')?.reason).toBe(`topic datarep.${w.topic} does not exist; would apply: topic datarep.${w.topic} (3 partitions, replication 1)`);
    expect(step('producer-on')?.reason).toContain(`flag ${w.producerFlag} is off`);
    expect(step('producer-on')?.reason).toContain(`would apply: switch flag ${w.producerFlag} on`);
    // The consumers' check fails on the missing topic: honest about it, and about why.
    expect(step('consumers-ready')?.after).toEqual(['create-topic']);
    expect(step('events-flow')?.reason).toContain('only a run waiting on it can judge it');
    expect(step('approve-switch')?.reason).toContain('--approve approve-switch');
    expect(step('endpoint-healthy')?.reason).toMatch(/^1\/2 successes in a row \(200 in .*\); the endpoint must answer several times in a row/);

    // Nothing changed.
    expect(await topicPartitions([`datarep.${w.topic}`])).toEqual({});
    expect((await readFile(w.flagsFile)).equals(flagsBefore)).toBe(true);
    expect(existsSync(path.join(w.cwd, '.migrate'))).toBe(false);
    const newGroups = (await groupIds()).filter((g) => !groupsBefore.has(g));
    expect(newGroups.filter((g) => g === w.group || g.includes(w.topic))).toEqual([]);

    // The same plan as a table.
    const table = await runCli(planArgs(w), { cwd: w.cwd });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^STEP +TYPE +VERDICT +WHY$/m);
    expect(table.stdout).toMatch(/^create-topic +kafka\.topic +would act +topic datarep\..* does not exist/m);
    expect(table.stdout).toContain('11 steps: 3 satisfied, 3 would act, 1 would wait, 4 cannot check. Nothing was changed.');
    expect(existsSync(path.join(w.cwd, '.migrate'))).toBe(false);
  });

  it('reports satisfied steps and a topic with other partitions as drift, naming the difference (exit 0)', async () => {
    const w = await makeWorld('func', { async: false, producer: false });
    worlds.push(w);
    const admin = testKafka().admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: `datarep.${w.topic}`, numPartitions: 5, replicationFactor: 1 }] });
    await admin.disconnect();

    const res = await runCli(planArgs(w, '--json'), { cwd: w.cwd });
    expect(res.code, res.stderr).toBe(0);
    const plan = JSON.parse(res.stdout) as PlanJson;
    const step = (id: string) => plan.steps.find((s) => s.id === id);
    expect(step('create-topic')).toMatchObject({
      verdict: 'drift',
      reason: `topic datarep.${w.topic} differs from the playbook: partitions: declared 3, found 5`,
      differences: ['partitions: declared 3, found 5'],
    });
    expect(plan.steps.filter((s) => s.verdict === 'satisfied').map((s) => s.id)).toEqual(['register-schema', 'producer-flag', 'sync-call-removed']);
    // The topic exists now, so the consumers' check can look: nobody consumes yet.
    expect(step('consumers-ready')).toMatchObject({ verdict: 'would wait', reason: `group ${w.group} has no members (state Dead); start the consumers` });

    const table = await runCli(planArgs(w), { cwd: w.cwd });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^create-topic +kafka\\.topic +drift +topic datarep\\.${w.topic} differs from the playbook:$`, 'm'));
    expect(table.stdout).toMatch(/^ +- partitions: declared 3, found 5$/m);
    expect(await topicPartitions([`datarep.${w.topic}`])).toEqual({ [`datarep.${w.topic}`]: 5 });
  });

  it('is bad input (exit 2) for a missing param or an unknown playbook', async () => {
    const w = await makeWorld('func', { async: false, producer: false });
    worlds.push(w);
    const missing = await runCli(['plan', 'sync-to-async', '-p', `topic=${w.topic}`], { cwd: w.cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing required param "group"');
    const unknown = await runCli(['plan', 'no-such-playbook', '--json'], { cwd: w.cwd });
    expect(unknown.code).toBe(2);
    expect(JSON.parse(unknown.stdout)).toMatchObject({ type: 'error', exitCode: 2 });
  });
});
