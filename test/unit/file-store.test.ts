import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError, RunLockedError, UsageError } from '../../src/errors.js';
import type { RunState } from '../../src/state/run-state.js';
import { FileRunStore } from '../../src/state/file-store.js';
import { runStateFixture } from '../support/run-state.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'migrate-store-'));
});
const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function state(name: string, status: RunState['status'] = 'running'): RunState {
  return runStateFixture({ name, status });
}

describe('FileRunStore', () => {
  it('writes atomically and reads back, leaving no temp files behind', async () => {
    const store = new FileRunStore(dir);
    await store.write(state('r1'));
    await store.write({ ...state('r1'), status: 'completed' });
    expect((await store.read('r1'))?.status).toBe('completed');
    expect(await readdir(dir)).toEqual(['r1.json']);
    expect(await store.read('nope')).toBeUndefined();
  });

  it('reports a corrupt state file with file:line:col', async () => {
    const store = new FileRunStore(dir);
    await writeFile(path.join(dir, 'bad.json'), '{\n  "version": 1,\n  "name": }\n');
    const err = await store.read('bad').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidInputError);
    expect((err as InvalidInputError).problems[0]).toMatchObject({ line: 3, file: path.join(dir, 'bad.json') });
    await writeFile(path.join(dir, 'shape.json'), '{"version": 2}');
    await expect(store.read('shape')).rejects.toThrow(/state file has a bad value at version/);
  });

  it('refuses run names that could escape the state directory', async () => {
    const store = new FileRunStore(dir);
    for (const name of ['../x', 'a/b', '.hidden', '', 'a'.repeat(200)]) {
      await expect(store.read(name)).rejects.toBeInstanceOf(UsageError);
    }
  });

  it('lets one holder at a time take a run lock, naming the holder to the other', async () => {
    const store = new FileRunStore(dir);
    const lock = await store.lock('r1');
    const err = await store.lock('r1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunLockedError);
    expect((err as RunLockedError).message).toMatch(new RegExp(`pid ${process.pid} on host ${os.hostname()}`));
    await lock.release();
    await (await store.lock('r1')).release();
  });

  it('refuses a lock held by another live process, and takes over one whose holder died', async () => {
    const store = new FileRunStore(dir);
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    children.push(child);
    const holder = { pid: child.pid, host: os.hostname(), startedAt: new Date().toISOString(), token: 't' };
    await writeFile(path.join(dir, 'r1.lock'), JSON.stringify(holder));
    await expect(store.lock('r1')).rejects.toThrow(`locked by pid ${child.pid}`);

    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const lock = await store.lock('r1');
    const now = JSON.parse(await readFile(path.join(dir, 'r1.lock'), 'utf8')) as { pid: number };
    expect(now.pid).toBe(process.pid);
    await lock.release();
  });

  it('does not judge a lock from another host stale', async () => {
    const store = new FileRunStore(dir);
    await writeFile(path.join(dir, 'r1.lock'), JSON.stringify({ pid: 999_999, host: 'elsewhere', startedAt: 'x', token: 't' }));
    await expect(store.lock('r1')).rejects.toThrow(/on host elsewhere/);
  });

  it('lists runs newest first', async () => {
    const store = new FileRunStore(dir);
    await store.write({ ...state('old'), updatedAt: '2020-01-01T00:00:00.000Z' });
    await store.write(state('new'));
    expect((await store.list()).map((s) => s.name)).toEqual(['new', 'old']);
  });
});
