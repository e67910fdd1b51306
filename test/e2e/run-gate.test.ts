import { describe, expect, it } from 'vitest';
import { events, runCli, unique, workdir } from '../support/cli.js';
import { topicPartitions } from '../support/kafka-client.js';
import { twoTopicsPlaybook as twoTopics } from '../support/playbooks.js';

describe('migrate run with a gate, against the real broker', () => {
  it('pauses at the gate without a terminal (exit 3), then completes with --approve (exit 0)', async () => {
    const topic = unique('gate');
    const cwd = await workdir({ 'two.yaml': twoTopics });

    const first = await runCli(['run', 'two.yaml', '--param', `topic=${topic}`], { cwd });
    expect(first.code, first.stderr).toBe(3);
    expect(first.stdout).toContain(`migrate run two.yaml --name two-topics-${topic} --approve approve-b`);
    expect(await topicPartitions([`${topic}-a`, `${topic}-b`])).toEqual({ [`${topic}-a`]: 3 });

    const status = await runCli(['status', `two-topics-${topic}`, '--json'], { cwd });
    expect(JSON.parse(status.stdout)).toMatchObject({
      status: 'paused',
      steps: [
        { id: 'create-a', status: 'done' },
        { id: 'approve-b', status: 'waiting' },
        { id: 'create-b', status: 'pending' },
      ],
    });

    const second = await runCli(['run', 'two.yaml', '--name', `two-topics-${topic}`, '--approve', 'approve-b', '--json'], { cwd });
    expect(second.code, second.stderr).toBe(0);
    const ev = events(second.stdout);
    expect(ev.filter((e) => e.type === 'step.started').map((e) => e.step)).toEqual(['create-b']);
    expect(ev.find((e) => e.type === 'gate.approved')).toMatchObject({ step: 'approve-b', via: '--approve' });
    expect(await topicPartitions([`${topic}-a`, `${topic}-b`])).toEqual({ [`${topic}-a`]: 3, [`${topic}-b`]: 2 });

    const all = await runCli(['status', '--json'], { cwd });
    expect(JSON.parse(all.stdout).runs).toMatchObject([{ name: `two-topics-${topic}`, status: 'completed' }]);
  });

  it('reports a topic whose settings differ from the playbook as drift, naming each difference', async () => {
    const topic = unique('drift');
    const cwd = await workdir({ 'two.yaml': twoTopics });
    expect((await runCli(['run', 'two.yaml', '-p', `topic=${topic}`, '--yes'], { cwd })).code).toBe(0);
    const changed = twoTopics.replace('partitions: 3', 'partitions: 4, configs: { retention.ms: 3600000 }').replace('name: two-topics', 'name: other');
    const cwd2 = await workdir({ 'two.yaml': changed });
    const res = await runCli(['run', 'two.yaml', '-p', `topic=${topic}`, '--yes'], { cwd: cwd2 });
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`topic ${topic}-a differs from the playbook: partitions: declared 4, found 3; retention.ms: declared 3600000, found 604800000`);
  });

  it('refuses to resume a run whose playbook or params changed, unless --allow-changed', async () => {
    const topic = unique('changed');
    const cwd = await workdir({ 'two.yaml': twoTopics });
    const name = `two-topics-${topic}`;
    expect((await runCli(['run', 'two.yaml', '-p', `topic=${topic}`], { cwd })).code).toBe(3);

    const { writeFile } = await import('node:fs/promises');
    await writeFile(`${cwd}/two.yaml`, twoTopics.replace('partitions: 2', 'partitions: 4'));
    const refused = await runCli(['run', 'two.yaml', '--name', name, '--approve', 'approve-b'], { cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`run ${name} was started with a different playbook`);
    expect(await topicPartitions([`${topic}-b`])).toEqual({});

    const otherParams = await runCli(['run', 'two.yaml', '--name', name, '-p', `topic=${topic}x`, '--allow-changed', '--approve', 'approve-b'], { cwd });
    expect(otherParams.code).toBe(0);
    // The surviving step keeps its state; the new param value drives the steps still to run.
    expect(await topicPartitions([`${topic}-a`, `${topic}x-b`])).toEqual({ [`${topic}-a`]: 3, [`${topic}x-b`]: 4 });
  });
});
