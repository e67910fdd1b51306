// OFREP against a real flagd (started by test/support/flagd-setup.ts, serving FLAGD_FLAG_FILE):
// the evaluator on its own, flagd following the file provider's atomic writes, and flag.set
// through the CLI waiting until flagd serves the switch. Every test here writes the one flag file
// flagd serves, so they run one after another (a test file's tests do), each with its own keys.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startFlagd } from '../../scripts/flagd-lib.mjs';
import { freePorts } from '../../scripts/kafka-lib.mjs';
import { FileFlagProvider } from '../../src/adapters/flags-file.js';
import { OfrepEvaluator } from '../../src/adapters/flags-ofrep.js';
import { TransientError } from '../../src/errors.js';
import { writeFileAtomic } from '../../src/util/fs.js';
import { eventually, events, runCli, unique, workdir } from '../support/cli.js';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: test/support/flagd-setup.ts should have started flagd`);
  return value;
}

const ofrepUrl = env('FLAGD_OFREP_URL');
const flagFile = env('FLAGD_FLAG_FILE');
const evaluator = new OfrepEvaluator(ofrepUrl, undefined);
const provider = new FileFlagProvider(flagFile);

/** Waits until flagd serves `expected` for `key` (its file watcher looks once a second). */
function served(key: string, expected: { value: unknown } | undefined): Promise<true> {
  return eventually(async () => JSON.stringify(await evaluator.evaluate(key)) === JSON.stringify(expected) || undefined, 15_000, 100);
}

describe('OfrepEvaluator against flagd', () => {
  it('is served true for a flag switched on and false for one switched off', async () => {
    const on = unique('ofrep-on');
    const off = unique('ofrep-off');
    await provider.set(on, true);
    await provider.set(off, false);
    await served(on, { value: true });
    await served(off, { value: false });
    expect(await evaluator.evaluate(on)).toEqual({ value: true });
    expect(await evaluator.evaluate(off)).toEqual({ value: false });
  });

  it('is served no value for a DISABLED flag, and undefined for a flag flagd does not know', async () => {
    const disabled = unique('ofrep-disabled');
    const doc = JSON.parse(await readFile(flagFile, 'utf8')) as { flags: Record<string, unknown> };
    doc.flags[disabled] = { state: 'DISABLED', variants: { on: true, off: false }, defaultVariant: 'on' };
    await writeFileAtomic(flagFile, JSON.stringify(doc, null, 2));
    // flagd answers 200 with reason DISABLED and no value: applications get their code default.
    await served(disabled, { value: undefined });
    expect(await evaluator.evaluate(disabled)).toEqual({ value: undefined });
    expect(await evaluator.evaluate(unique('never-defined'))).toBeUndefined();
  });

  it('sends a token as a Bearer header without breaking an open flagd', async () => {
    const key = unique('ofrep-token');
    await provider.set(key, true);
    const withToken = new OfrepEvaluator(`${ofrepUrl}/`, 'not-checked-by-flagd');
    await eventually(async () => (await withToken.evaluate(key))?.value === true, 15_000, 100);
    expect(withToken.description).toBe(`OFREP at ${ofrepUrl}`);
  });

  it('throws a TransientError naming the endpoint when nothing listens there', async () => {
    const [port] = await freePorts(1);
    const nobody = new OfrepEvaluator(`http://127.0.0.1:${port}`, 'secret-token-value');
    const err = await nobody.evaluate('any').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe(`OFREP at http://127.0.0.1:${port}: connection refused by 127.0.0.1:${port}`);
    expect((err as Error).message).not.toContain('secret-token-value');
  });
});

describe('flagd and the file provider\'s atomic writes', () => {
  it('follows the flag file across renames: every write is a new inode and flagd serves each one', async () => {
    const key = unique('ofrep-rename');
    let inode = (await stat(flagFile)).ino;
    let replaced = 0;
    for (const on of [true, false, true, false]) {
      await provider.set(key, on);
      const now = (await stat(flagFile)).ino;
      if (now !== inode) replaced += 1;
      inode = now;
      await served(key, { value: on });
    }
    // writeFileAtomic renames a temp file over the flag file: each write replaced the inode flagd
    // had open, and flagd still saw every one (its default file sync re-stats the path). Only
    // consecutive inodes are compared: the filesystem may hand a freed inode number out again.
    expect(replaced).toBe(4);
  });
});

describe('flag.set with propagation over OFREP, through the CLI', () => {
  const playbook = (key: string, timeout: string) => `name: switch
steps:
  - id: switch
    uses: flag.set
    with: { key: ${key}, on: true }
    timeout: ${timeout}
`;
  const config = (file: string, url: string) => `flags:
  file: ${JSON.stringify(file)}
  propagation:
    ofrep: ${JSON.stringify(url)}
`;

  let other: Awaited<ReturnType<typeof startFlagd>> | undefined;
  let otherDir: string | undefined;
  beforeAll(async () => {
    // A second flagd, serving a file nobody switches: propagation to it never comes.
    otherDir = await mkdtemp(path.join(os.tmpdir(), 'migrate-flagd-other-'));
    const file = path.join(otherDir, 'flags.json');
    await writeFile(file, JSON.stringify({ flags: {} }));
    other = await startFlagd({ flagFile: file, dataDir: path.join(otherDir, 'flagd') });
  });
  afterAll(async () => {
    await other?.stop();
    if (otherDir) await rm(otherDir, { recursive: true, force: true });
  });

  it('exits 0 only once flagd serves the switched flag', async () => {
    const key = unique('ofrep-cli');
    await provider.set(key, false);
    await served(key, { value: false });
    const cwd = await workdir({ 'switch.yaml': playbook(key, '30s'), 'migrate.config.yaml': config(flagFile, ofrepUrl) });
    const res = await runCli(['run', 'switch.yaml', '--json'], { cwd });
    // Right after the CLI exits: flagd already serves the new value, with nothing waited for here.
    const servedAtExit = await evaluator.evaluate(key);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(servedAtExit).toEqual({ value: true });
    const ev = events(res.stdout);
    expect(ev.filter((e) => e.type === 'step.applied')).toHaveLength(1);
    const done = ev.find((e) => e.type === 'step.done');
    expect(done?.summary).toBe(`flag ${key} is on in flag file ${flagFile}; OFREP at ${ofrepUrl} serves it`);
    process.stderr.write(`[ofrep] flag.set ${key}: switched and served by flagd in ${String(done?.durationMs)} ms\n`);
    await rm(cwd, { recursive: true, force: true });
  });

  it('times out saying what was switched and what is still served when propagation never comes; a rerun does not switch again', async () => {
    const key = unique('ofrep-never');
    const cwd = await workdir({ 'switch.yaml': playbook(key, '2s'), 'migrate.config.yaml': config(flagFile, other!.ofrepUrl) });
    const res = await runCli(['run', 'switch.yaml', '--json'], { cwd });
    expect(res.code, res.stderr + res.stdout).toBe(1);
    const waiting = `flag ${key} is on in flag file ${flagFile}; waiting until OFREP at ${other!.ofrepUrl} serves it (it does not know the flag)`;
    expect(res.stdout + res.stderr).toContain(`timed out after 2s: ${waiting}`);
    expect(events(res.stdout).filter((e) => e.type === 'step.applied')).toHaveLength(1);
    expect(await provider.get(key)).toMatchObject({ enabled: true, value: true });

    // Run again: the provider already says on, so the step only waits; it never applies twice.
    const again = await runCli(['run', 'switch.yaml', '--json'], { cwd });
    expect(again.code, again.stderr + again.stdout).toBe(1);
    const ev = events(again.stdout);
    expect(ev.filter((e) => e.type === 'step.applied')).toHaveLength(0);
    expect(ev.find((e) => e.type === 'step.checked')?.summary).toBe(waiting);
    await rm(cwd, { recursive: true, force: true });
  });
});
