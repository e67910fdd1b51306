// The exec step in process, against real child processes: what it reads from a command, and how
// it stops one (with everything the command started) on an interrupt or at the step's deadline.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCommand } from '../../src/adapters/command.js';
import { execStep } from '../../src/steps/exec.js';
import { allGone, familyPids, familyScript, gone, killAll } from '../support/process-family.js';
import { stepContext } from '../support/step-context.js';

const node = process.execPath;

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'migrate-exec-'));
}

describe('exec step', () => {
  it('is done on exit 0 with its last line as summary and a JSON last line as outputs; not yet on another exit', async () => {
    const dir = await tempDir();
    const ctx = stepContext({ cwd: dir });
    const script = 'if [ -f ready ]; then echo "3/3 ready"; echo \'{"replicas":3}\'; else echo "1/3 ready" >&2; exit 4; fi';
    const p = execStep.params.parse({ check: ['/bin/sh', '-c', script] });
    expect(await execStep.check(p, ctx)).toEqual({ done: false, summary: '1/3 ready', progress: { message: '1/3 ready' } });
    await writeFile(path.join(dir, 'ready'), '');
    expect(await execStep.check(p, ctx)).toEqual({ done: true, summary: '3/3 ready', outputs: { replicas: 3 } });
  });

  it('says how a silent check ended, and runs a shell script with shell: true', async () => {
    const ctx = stepContext({ cwd: await tempDir() });
    expect(await execStep.check(execStep.params.parse({ check: ['false'], apply: ['true'] }), ctx)).toEqual({ done: false, summary: '`false` exited with code 1' });
    const p = execStep.params.parse({ check: ['echo "$GREETING" | tr a-z A-Z'], shell: true, env: { GREETING: 'hello' } });
    expect(await execStep.check(p, ctx)).toEqual({ done: true, summary: 'HELLO' });
  });

  it('runs in cwd, relative to the working directory, with the run and step in its environment', async () => {
    const dir = await tempDir();
    const sub = path.join(dir, 'k8s');
    await mkdir(sub);
    const p = execStep.params.parse({ check: ['/bin/sh', '-c', 'echo "$(basename "$PWD") $MIGRATE_RUN $MIGRATE_STEP"'], cwd: 'k8s' });
    expect(await execStep.check(p, stepContext({ cwd: dir, run: 'r1', step: 'roll' }))).toMatchObject({ summary: 'k8s r1 roll' });
  });

  it('fails apply with the command, its exit code and its last lines of output, bounded', async () => {
    const ctx = stepContext({ cwd: await tempDir() });
    const p = execStep.params.parse({ check: ['false'], apply: [node, '-e', 'for (let i = 0; i < 100000; i++) console.log("progress " + i); console.log("boom"); process.exitCode = 3'] });
    const err = (await execStep.apply?.(p, ctx).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^apply `.+ -e '.+'` exited with code 3; its last output:\n {2}progress 99991\n/);
    const lines = err.message.split('\n');
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)).toBe('  boom');
  });

  it('fails with one clear line when the program does not exist, or the directory', async () => {
    const ctx = stepContext({ cwd: await tempDir() });
    await expect(execStep.check(execStep.params.parse({ check: ['no-such-program-xyz', '--version'] }), ctx)).rejects.toThrow(
      /^exec: command not found: no-such-program-xyz \(check\)$/,
    );
    await expect(execStep.check(execStep.params.parse({ check: ['true'], cwd: 'nowhere' }), ctx)).rejects.toThrow(/^exec: working directory not found: .*nowhere \(check\)$/);
  });

  it('gives undo the outputs the step recorded', async () => {
    const dir = await tempDir();
    const p = execStep.params.parse({ check: ['true'], apply: ['true'], undo: ['/bin/sh', '-c', 'echo "$MIGRATE_OUTPUTS" > undone'] });
    await execStep.undo?.(p, stepContext({ cwd: dir }), { revision: 7 });
    expect(JSON.parse(await readFile(path.join(dir, 'undone'), 'utf8'))).toEqual({ revision: 7 });
  });

  it('stops the whole process group when the run is interrupted, and has it gone before its cleanup returns', async () => {
    const dir = await tempDir();
    const script = await familyScript(dir);
    const controller = new AbortController();
    const deferred: (() => Promise<void>)[] = [];
    const ctx = stepContext({ cwd: dir, signal: controller.signal, defer: (fn) => deferred.push(fn) });
    const p = execStep.params.parse({ check: ['true'], apply: [node, script] });
    const applying = execStep.apply?.(p, ctx).catch((e: unknown) => e);
    const family = await familyPids(dir);
    try {
      expect(await Promise.all(family.map(gone))).toEqual([false, false]);
      controller.abort(new Error('interrupted by SIGINT'));
      // The engine stops waiting for the step at once and runs what it deferred.
      await Promise.all(deferred.map((fn) => fn()));
      expect(await gone(family[0])).toBe(true);
      await allGone(family);
      expect(((await applying) as Error).message).toBe('interrupted by SIGINT');
    } finally {
      killAll(family);
    }
  });

  it("stops the whole process group at the step's deadline: a check still running is not done yet", async () => {
    const dir = await tempDir();
    const script = await familyScript(dir);
    const ctx = stepContext({ cwd: dir, deadline: Date.now() + 1000 });
    const checked = await execStep.check(execStep.params.parse({ check: [node, script] }), ctx);
    const family = await familyPids(dir);
    try {
      expect(checked).toEqual({ done: false, summary: expect.stringContaining("was still running at the step's timeout; its process group was stopped") as string });
      expect(await gone(family[0])).toBe(true);
      await allGone(family);
    } finally {
      killAll(family);
    }
  });

  it("fails an apply still running at the step's deadline, its group stopped", async () => {
    const dir = await tempDir();
    const script = await familyScript(dir);
    const p = execStep.params.parse({ check: ['false'], apply: [node, script] });
    const applying = execStep.apply?.(p, stepContext({ cwd: dir, deadline: Date.now() + 1000 }));
    const family = await familyPids(dir);
    try {
      await expect(applying).rejects.toThrow(/^apply `.+family\.mjs` was still running at the step's timeout; its process group was stopped; its last output:\n {2}started$/);
      await allGone(family);
    } finally {
      killAll(family);
    }
  });

  it('kills a group that ignores SIGTERM after the grace, the grandchild too', async () => {
    const dir = await tempDir();
    const script = await familyScript(dir, 'ignore');
    const controller = new AbortController();
    const cmd = await startCommand({ argv: [node, script], cwd: dir, env: process.env, signal: controller.signal, now: Date.now, outputLimit: 1024, graceMs: 300 });
    const family = await familyPids(dir);
    try {
      await cmd.stop('aborted');
      const r = await cmd.result;
      expect(r).toMatchObject({ signal: 'SIGKILL', stopped: 'aborted' });
      expect(await readFile(path.join(dir, 'trapped'), 'utf8')).toBe('SIGTERM');
      await allGone(family);
    } finally {
      killAll(family);
    }
  });
});
