// flag.set is killed after it switched the flag but before the step was done (here: while it
// waits for flagd to serve the new value, which never comes because flagd serves another file).
// What the flag was before is saved before the switch, so nothing needed to put it back is lost:
// rollback restores it straight from the unfinished step, and a resumed run records it in the
// step's outputs (and does not claim it found the flag already switched).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, events, runCli, startCli, unique, workdir } from '../support/cli.js';
import { flagValues, runState } from '../support/procedure.js';

const flagd = (key: string, on: boolean) =>
  JSON.stringify({ flags: { [key]: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: on ? 'on' : 'off' } } }, null, 2);

const playbook = `name: switch
params:
  flag: { required: true }
steps:
  - id: switch
    uses: flag.set
    with: { key: "\${{ params.flag }}", on: true }
    timeout: 2m
`;

function ofrepUrl(): string {
  const url = process.env.FLAGD_OFREP_URL;
  if (!url) throw new Error('FLAGD_OFREP_URL is not set: is test/support/flagd-setup.ts the globalSetup?');
  return url;
}

/** A run killed while flag.set waits for propagation: the flag file already says on. */
async function killedAfterTheSwitch() {
  const key = unique('crash-flag');
  const cwd = await workdir({
    'switch.yaml': playbook,
    'flags.json': flagd(key, false),
    // flagd serves its own file, where this flag does not exist: the switch never propagates.
    'migrate.config.yaml': `flags:\n  file: flags.json\n  propagation: { ofrep: "${ofrepUrl()}" }\n`,
  });
  const flagsFile = path.join(cwd, 'flags.json');
  const cli = startCli(['run', 'switch.yaml', '-p', `flag=${key}`, '--json'], { cwd });
  await eventually(async () => (await flagValues(flagsFile))[key] === true, 30_000);
  await eventually(async () => (await runState(cwd, 'switch')).steps[0]?.status === 'running', 30_000);
  cli.kill('SIGKILL');
  expect((await cli.result).signal).toBe('SIGKILL');
  const state = JSON.parse(await readFile(path.join(cwd, '.migrate', 'switch.json'), 'utf8')) as { steps: { status: string; before?: unknown; outputs?: unknown }[] };
  expect(state.steps[0]).toMatchObject({ status: 'running', before: { previous: { enabled: true, value: false } } });
  expect(state.steps[0]?.outputs).toBeUndefined();
  return { key, cwd, flagsFile };
}

describe('flag.set killed between the switch and the end of the step', () => {
  it('rollback puts the flag back from what was saved before the switch', async () => {
    const { key, cwd, flagsFile } = await killedAfterTheSwitch();
    const rollback = await runCli(['rollback', 'switch', '--yes', '--json'], { cwd });
    expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
    expect(events(rollback.stdout).find((e) => e.type === 'step.undone')).toBeTruthy();
    expect(await flagValues(flagsFile)).toEqual({ [key]: false });
  });

  it('a resumed run records the previous value in the outputs; rollback then restores it', async () => {
    const { key, cwd, flagsFile } = await killedAfterTheSwitch();
    // Resumed where nobody waits for flagd: the flag is found switched.
    await writeFile(path.join(cwd, 'migrate.config.yaml'), 'flags:\n  file: flags.json\n');
    const resumed = await runCli(['run', 'switch.yaml', '-p', `flag=${key}`, '--json'], { cwd });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const done = events(resumed.stdout).find((e) => e.type === 'step.done');
    expect(done?.alreadyDone).toBeUndefined();
    expect(events(resumed.stdout).filter((e) => e.type === 'step.applied')).toEqual([]);
    const state = JSON.parse(await readFile(path.join(cwd, '.migrate', 'switch.json'), 'utf8')) as { steps: { outputs?: Record<string, unknown>; before?: unknown }[] };
    expect(state.steps[0]?.outputs).toMatchObject({ key, on: true, previous: { enabled: true, value: false } });
    expect(state.steps[0]?.before).toBeUndefined();

    const rollback = await runCli(['rollback', 'switch', '--yes'], { cwd });
    expect(rollback.code, rollback.stdout + rollback.stderr).toBe(0);
    expect(await flagValues(flagsFile)).toEqual({ [key]: false });
  });
});
