// examples/sync-to-async-with-rollout/, run as a team would: its playbook copied into the team's
// playbooks/ folder and its roll-out script beside it, against the real broker and the demo
// services. The exec step rolls the consumer out (a real process the script starts), a later step
// reads the roll-out's outputs, and rollback takes the consumer down again through exec's undo.
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { events, runCli } from '../support/cli.js';
import { appliedCounts, makeWorld, type World } from '../support/procedure.js';
import { allGone, killAll } from '../support/process-family.js';

const example = fileURLToPath(new URL('../../examples/sync-to-async-with-rollout/', import.meta.url));
const consumerScript = fileURLToPath(new URL('../../demo/consumer.mjs', import.meta.url));

const worlds: World[] = [];
const pids: number[] = [];
afterEach(async () => {
  killAll(pids.splice(0));
  for (const w of worlds.splice(0)) await w.stop();
});

describe('examples/sync-to-async-with-rollout', () => {
  it('rolls the consumers out through exec, reads the outputs of the roll-out, and undoes it on rollback', async () => {
    const w = await makeWorld('func', { async: false, producer: false });
    worlds.push(w);
    await mkdir(path.join(w.cwd, 'playbooks'));
    await copyFile(path.join(example, 'playbook.yaml'), path.join(w.cwd, 'playbooks', 'sync-to-async-with-rollout.yaml'));
    await copyFile(path.join(example, 'rollout.mjs'), path.join(w.cwd, 'rollout.mjs'));
    await mkdir(path.join(w.cwd, 'k8s'));
    const command = [process.execPath, consumerScript, '--brokers', w.brokers.join(','), '--topic', `datarep.${w.topic}`, '--group', w.group];
    command.push('--flags', w.flagsFile, '--flag', w.flag, '--source', w.source.url, '--producer-flag', w.producerFlag);
    await writeFile(path.join(w.cwd, 'k8s', 'consumer.json'), JSON.stringify({ name: 'exercises-consumer', command }));

    const run = `sync-to-async-with-rollout-${w.topic}`;
    const args = ['-p', `topic=${w.topic}`, '-p', `group=${w.group}`, '-p', `flag=${w.flag}`, '-p', `endpoint=${w.endpoint}`, '-p', 'codePaths=app', '-p', 'minEvents=10'];
    const res = await runCli(['run', 'sync-to-async-with-rollout', '--json', '--yes', ...args], { cwd: w.cwd });
    const record = JSON.parse(await readFile(path.join(w.cwd, '.rollout', 'exercises-consumer.json'), 'utf8').catch(() => '{}')) as { pid?: number };
    if (record.pid) pids.push(record.pid);
    expect(res.code, res.stdout.slice(-3000) + res.stderr).toBe(0);

    const ev = events(res.stdout);
    expect(appliedCounts([res])['consumers-rolled-out']).toBe(1);
    expect(ev.find((e) => e.type === 'step.done' && e.step === 'consumers-rolled-out')?.summary).toBe('deployment exercises-consumer successfully rolled out');
    const state = JSON.parse(await readFile(path.join(w.cwd, '.migrate', `${run}.json`), 'utf8')) as { steps: { id: string; outputs?: { url?: string; pid?: number } }[] };
    const outputs = state.steps.find((s) => s.id === 'consumers-rolled-out')?.outputs;
    expect(outputs?.pid).toBe(record.pid);
    // The probe read its URL from the roll-out's outputs, and the consumer it found is the one the run switched.
    expect(ev.find((e) => e.type === 'step.done' && e.step === 'consumer-healthy')?.summary).toContain(`${outputs?.url}/health`);
    const health = (await (await fetch(`${outputs?.url}/health`)).json()) as { mode: string };
    expect(health.mode).toBe('async');

    const back = await runCli(['rollback', run, '--yes', '--json'], { cwd: w.cwd });
    expect(back.code, back.stdout.slice(-2000) + back.stderr).toBe(0);
    expect(events(back.stdout).find((e) => e.type === 'step.undone' && e.step === 'consumers-rolled-out')?.summary).toContain('undone: run `node rollout.mjs apply -f k8s/consumer.json`');
    await allGone([record.pid as number]);
  });
});
