import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { events, runCli, unique, workdir } from '../support/cli.js';
import { writeFlags } from '../support/demo-services.js';
import { topicPartitions } from '../support/kafka-client.js';
import { flagValues } from '../support/procedure.js';

// The seed's switch in small: a topic, the producer's flag, a gate, the switch, and a wait (a quiet
// topic: a drain would wait for a group that never consumed, as kafka.drain should).
const switchover = `name: switchover
params:
  topic: { required: true }
steps:
  - id: create-topic
    uses: kafka.topic
    with: { name: "datarep.\${{ params.topic }}", partitions: 2 }
  - id: producer-on
    uses: flag.set
    with: { key: "\${{ params.topic }}-producer", on: true }
  - id: approve-switch
    uses: confirm
    with: { message: Switch? }
  - id: switch
    uses: flag.set
    with: { key: "\${{ params.topic }}-async", on: true }
  - id: quiet
    uses: kafka.quiet
    with: { topic: "datarep.\${{ params.topic }}", quietFor: 300ms }
    interval: 100ms
`;

interface StatusJson {
  status: string;
  steps: { id: string; status: string; skip?: { by: string; reason: string; at: string } }[];
}

async function world() {
  const topic = unique('rb');
  const cwd = await workdir({ 'switchover.yaml': switchover });
  const flagsFile = path.join(cwd, 'flags.json');
  await writeFlags(flagsFile, { [`${topic}-producer`]: false, [`${topic}-async`]: false });
  const run = `switchover-${topic}`;
  const status = async () => JSON.parse((await runCli(['status', run, '--json'], { cwd })).stdout) as StatusJson;
  return { topic, cwd, flagsFile, run, status };
}

describe('migrate rollback, against the real broker and a flag file', () => {
  it('puts the flags back newest first, says the topic cannot be undone, stops at --to, and is idempotent', async () => {
    const w = await world();
    const flagsBefore = await flagValues(w.flagsFile);
    const ran = await runCli(['run', 'switchover.yaml', '-p', `topic=${w.topic}`, '--yes'], { cwd: w.cwd });
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    expect(await flagValues(w.flagsFile)).toEqual({ [`${w.topic}-producer`]: true, [`${w.topic}-async`]: true });

    // Without a terminal (CI=true) it needs --yes, and says the command; nothing changes.
    const unconfirmedJson = await runCli(['rollback', w.run, '--to', 'switch', '--json'], { cwd: w.cwd });
    expect(unconfirmedJson.code).toBe(3);
    expect(JSON.parse(unconfirmedJson.stdout)).toMatchObject({ type: 'error', error: 'RollbackNotConfirmedError', exitCode: 3, hint: `confirm with: migrate rollback ${w.run} --to switch --yes` });
    const unconfirmed = await runCli(['rollback', w.run], { cwd: w.cwd });
    expect(unconfirmed.code).toBe(3);
    expect(unconfirmed.stderr).toContain(`needs confirmation, and there is no terminal to ask at: nothing was changed`);
    expect(unconfirmed.stderr).toContain(`hint: confirm with: migrate rollback ${w.run} --yes`);
    expect(unconfirmed.stdout).toMatch(/cannot undo +create-topic +kafka\.topic: the topic and its data are kept; delete it by hand if you mean to/);
    expect(await flagValues(w.flagsFile)).toEqual({ [`${w.topic}-producer`]: true, [`${w.topic}-async`]: true });
    expect((await w.status()).status).toBe('completed');

    // --to switch: the switch is put back, the producer stays on.
    const toSwitch = await runCli(['rollback', w.run, '--to', 'switch', '--yes'], { cwd: w.cwd });
    expect(toSwitch.code, toSwitch.stdout + toSwitch.stderr).toBe(0);
    expect(toSwitch.stdout).toContain(`↶ switch  undone: switch flag ${w.topic}-async on`);
    expect(await flagValues(w.flagsFile)).toEqual({ [`${w.topic}-producer`]: true, [`${w.topic}-async`]: false });
    expect(await w.status()).toMatchObject({
      status: 'rolled-back',
      steps: [
        { id: 'create-topic', status: 'done' },
        { id: 'producer-on', status: 'done' },
        { id: 'approve-switch', status: 'done' },
        { id: 'switch', status: 'pending' },
        { id: 'quiet', status: 'pending' },
      ],
    });

    // The rest, as NDJSON events.
    const rest = await runCli(['rollback', w.run, '--yes', '--json'], { cwd: w.cwd });
    expect(rest.code, rest.stdout + rest.stderr).toBe(0);
    const ev = events(rest.stdout);
    expect(ev.map((e) => [e.type, e.step])).toEqual([
      ['rollback.started', undefined],
      ['step.undone', 'approve-switch'],
      ['step.undone', 'producer-on'],
      ['step.not-undoable', 'create-topic'],
      ['rollback.finished', undefined],
    ]);
    expect(ev[3]).toMatchObject({ reason: 'kafka.topic: the topic and its data are kept; delete it by hand if you mean to' });
    expect(ev[4]).toMatchObject({ status: 'rolled-back', undone: 2, notUndoable: 1 });
    expect(await flagValues(w.flagsFile)).toEqual(flagsBefore);
    expect(await topicPartitions([`datarep.${w.topic}`])).toEqual({ [`datarep.${w.topic}`]: 2 });
    const status = await w.status();
    expect(status.status).toBe('rolled-back');
    expect(status.steps.map((s) => s.status)).toEqual(['done', 'pending', 'pending', 'pending', 'pending']);
    const text = await runCli(['status', w.run], { cwd: w.cwd });
    expect(text.stdout).toContain('rolled-back');

    // Again: nothing left to undo, nothing asked, the flag file untouched.
    const flagText = await readFile(w.flagsFile, 'utf8');
    const again = await runCli(['rollback', w.run], { cwd: w.cwd });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('! create-topic  cannot be undone: kafka.topic: the topic and its data are kept');
    expect(await readFile(w.flagsFile, 'utf8')).toBe(flagText);
    expect((await w.status()).status).toBe('rolled-back');

    // The audit trail holds both rollbacks.
    const state = JSON.parse(await readFile(path.join(w.cwd, '.migrate', `${w.run}.json`), 'utf8')) as { history: { type: string; step?: string }[] };
    expect(state.history.filter((h) => h.type === 'rollback.started')).toHaveLength(3);
    expect(state.history.filter((h) => h.type === 'step.undone').map((h) => h.step)).toEqual(['quiet', 'switch', 'approve-switch', 'producer-on']);

    // Running it again rolls forward: the undone steps run again, the gate asks again.
    const forward = await runCli(['run', 'switchover.yaml', '-p', `topic=${w.topic}`], { cwd: w.cwd });
    expect(forward.code, forward.stdout + forward.stderr).toBe(3);
    expect(await flagValues(w.flagsFile)).toEqual({ [`${w.topic}-producer`]: true, [`${w.topic}-async`]: false });
    const approved = await runCli(['run', 'switchover.yaml', '-p', `topic=${w.topic}`, '--approve', 'approve-switch'], { cwd: w.cwd });
    expect(approved.code, approved.stdout + approved.stderr).toBe(0);
    expect(await flagValues(w.flagsFile)).toEqual({ [`${w.topic}-producer`]: true, [`${w.topic}-async`]: true });
    expect((await w.status()).status).toBe('completed');
  });

  it('is bad input (exit 2) for an unknown run or step, and exit 5 while another process holds the run', async () => {
    const w = await world();
    expect((await runCli(['run', 'switchover.yaml', '-p', `topic=${w.topic}`, '--yes'], { cwd: w.cwd })).code).toBe(0);
    const noRun = await runCli(['rollback', 'no-such-run', '--yes'], { cwd: w.cwd });
    expect(noRun.code).toBe(2);
    expect(noRun.stderr).toContain('no run named no-such-run');
    const noStep = await runCli(['rollback', w.run, '--to', 'nope', '--yes'], { cwd: w.cwd });
    expect(noStep.code).toBe(2);
    expect(noStep.stderr).toContain(`--to nope: run ${w.run} has no step "nope"`);

    // A live process (this test runner) on this host holds the lock.
    await mkdir(path.join(w.cwd, '.migrate'), { recursive: true });
    const holder = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), token: 'test' };
    await writeFile(path.join(w.cwd, '.migrate', `${w.run}.lock`), JSON.stringify(holder));
    const locked = await runCli(['rollback', w.run, '--yes'], { cwd: w.cwd });
    expect(locked.code).toBe(5);
    expect(locked.stderr).toContain(`is locked by pid ${process.pid}`);
    expect(await flagValues(w.flagsFile)).toEqual({ [`${w.topic}-producer`]: true, [`${w.topic}-async`]: true });
  });
});

describe('migrate run --skip STEP --reason "..."', () => {
  it('marks the step skipped without running it, records who and why, and status shows it', async () => {
    const w = await world();
    const res = await runCli(
      ['run', 'switchover.yaml', '-p', `topic=${w.topic}`, '--yes', '--json', '--skip', 'switch', '--reason', 'consumers switch by config this time', '--skip', 'quiet', '--reason', 'nothing to wait for'],
      { cwd: w.cwd },
    );
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const skipped = events(res.stdout).filter((e) => e.type === 'step.skipped');
    expect(skipped.map((e) => [e.step, e.reason])).toEqual([
      ['switch', 'consumers switch by config this time'],
      ['quiet', 'nothing to wait for'],
    ]);
    expect(events(res.stdout).filter((e) => e.type === 'step.started').map((e) => e.step)).toEqual(['create-topic', 'producer-on']);
    // The switch was not flipped.
    expect(await flagValues(w.flagsFile)).toEqual({ [`${w.topic}-producer`]: true, [`${w.topic}-async`]: false });

    const status = await w.status();
    expect(status.status).toBe('completed');
    expect(status.steps.find((s) => s.id === 'switch')).toMatchObject({
      status: 'skipped',
      skip: { reason: 'consumers switch by config this time', by: expect.stringContaining('@'), at: expect.any(String) },
    });
    const text = await runCli(['status', w.run], { cwd: w.cwd });
    expect(text.stdout).toMatch(/skipped by .*@.* at .*: consumers switch by config this time/);
    const state = JSON.parse(await readFile(path.join(w.cwd, '.migrate', `${w.run}.json`), 'utf8')) as { history: { type: string; step?: string; detail?: { reason?: string } }[] };
    expect(state.history.filter((h) => h.type === 'step.skipped').map((h) => [h.step, h.detail?.reason])).toEqual([
      ['switch', 'consumers switch by config this time'],
      ['quiet', 'nothing to wait for'],
    ]);
  });

  it('is a usage error (exit 2) without a --reason, or for a step the playbook does not have; nothing runs', async () => {
    const w = await world();
    const noReason = await runCli(['run', 'switchover.yaml', '-p', `topic=${w.topic}`, '--yes', '--skip', 'switch'], { cwd: w.cwd });
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--skip switch needs a --reason');
    const unknown = await runCli(['run', 'switchover.yaml', '-p', `topic=${w.topic}`, '--yes', '--skip', 'nope', '--reason', 'why not'], { cwd: w.cwd });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--skip nope: the playbook has no step "nope"');
    expect(await topicPartitions([`datarep.${w.topic}`])).toEqual({});
  });
});
