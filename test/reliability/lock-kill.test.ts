// A run's lock file is created whole or not at all. A process takes and releases the lock of one
// run in a tight loop and is SIGKILLed at a random moment, again and again; after every kill the
// lock file is absent or names a holder. (Created with open(O_EXCL) and then written, a kill in
// between left an empty lock that blocked the run for good: "locked by pid 0 on host unknown".
// The crash-resume test hit it once in CI.) Every leftover lock's holder is dead, so the next
// lock() takes it over.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FileRunStore } from '../../src/state/file-store.js';
import { report } from './figures.js';

const KILLS = Number(process.env.LOCK_KILLS ?? 150);
const storeModule = fileURLToPath(new URL('../../dist/state/file-store.js', import.meta.url));

const looper = `
const { FileRunStore } = await import(${JSON.stringify(storeModule)});
const store = new FileRunStore(process.argv[1]);
process.stdout.write('ready\\n');
for (;;) {
  const lock = await store.lock('r');
  await lock.release();
}`;

describe('run lock under SIGKILL', () => {
  it(`killed ${KILLS} times while taking and releasing a lock: never an unreadable lock, always taken over`, async (ctx) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'migrate-lock-kill-'));
    const file = path.join(dir, 'r.lock');
    let leftHeld = 0;
    let unreadable = 0;
    for (let i = 0; i < KILLS; i++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', looper, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, Math.random() * 20));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined) continue;
      leftHeld += 1;
      try {
        const holder = JSON.parse(text) as { pid?: unknown };
        if (typeof holder.pid !== 'number') unreadable += 1;
      } catch {
        unreadable += 1;
      }
      // The holder is dead: this process takes the lock over, and gives it back.
      const lock = await new FileRunStore(dir).lock('r');
      await lock.release();
    }
    report(ctx, 'run lock under SIGKILL', { kills: KILLS, 'locks left by a killed holder': leftHeld, 'unreadable locks': unreadable, 'taken over': leftHeld - unreadable });
    expect(unreadable).toBe(0);
  });
});
