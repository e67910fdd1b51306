import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RunLockedError, type LockHolder } from '../errors.js';
import { readTextIfExists, writeFileAtomic, writeSynced } from '../util/fs.js';
import { assertRunName, isValidRunName } from './run-name.js';
import type { RunState } from './run-state.js';
import type { RunLock, RunStore } from './store.js';

/**
 * The embedded default RunStore: one JSON file per run in a directory (`.migrate/`), written
 * atomically (temp file, fsync, rename), and one lock file per run created exclusively.
 */
export class FileRunStore implements RunStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  statePath(name: string): string {
    assertRunName(name);
    return path.join(this.dir, `${name}.json`);
  }

  lockPath(name: string): string {
    assertRunName(name);
    return path.join(this.dir, `${name}.lock`);
  }

  async read(name: string): Promise<RunState | undefined> {
    const file = this.statePath(name);
    const text = await readTextIfExists(file);
    if (text === undefined) return undefined;
    // zod loads with the first state file to parse: `status` of an empty store never pays for it.
    const { parseRunState } = await import('./run-state.js');
    return parseRunState(file, text);
  }

  async list(): Promise<RunState[]> {
    if (!existsSync(this.dir)) return [];
    const names = (await readdir(this.dir)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
    const states: RunState[] = [];
    for (const name of names.filter(isValidRunName)) {
      const s = await this.read(name);
      if (s) states.push(s);
    }
    return states.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  async write(state: RunState): Promise<void> {
    const file = this.statePath(state.name);
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(file, JSON.stringify(state, null, 2) + '\n');
  }

  async lock(name: string): Promise<RunLock> {
    const file = this.lockPath(name);
    await mkdir(this.dir, { recursive: true });
    const token = randomBytes(8).toString('hex');
    const holder = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), token };
    for (let tries = 0; tries < 5; tries++) {
      try {
        await createWithContent(file, JSON.stringify(holder) + '\n');
        return { release: () => releaseLock(file, token) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const current = await readHolder(file);
      if (current === 'gone') continue;
      if (isStale(current)) {
        await removeStaleLock(file, current);
        continue;
      }
      throw new RunLockedError(name, current ?? { pid: 0, host: 'unknown', startedAt: 'unknown' }, file);
    }
    throw new RunLockedError(name, { pid: 0, host: 'unknown', startedAt: 'unknown' }, file);
  }
}

/**
 * Creates `file` with its whole content, or fails with EEXIST: the content goes into a temp file
 * first, which is then hard-linked to the name (link(2) never replaces). A process killed at any
 * moment leaves either no lock or a complete one, never an empty lock that would block the run
 * for good (open(O_EXCL) then write had that window; the crash-resume test hit it). Where the
 * filesystem has no hard links, falls back to exclusive create.
 */
async function createWithContent(file: string, content: string): Promise<void> {
  const temp = `${file}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeSynced(temp, content, 'wx');
  try {
    await link(temp, file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    await writeSynced(file, content, 'wx');
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

type StoredHolder = LockHolder & { token?: string };

async function readHolder(file: string): Promise<StoredHolder | undefined | 'gone'> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as StoredHolder;
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? parsed : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    return undefined; // half-written by a process killed between create and write
  }
}

/** A lock is stale when its holder is a process on this host that no longer exists. */
function isStale(holder: StoredHolder | undefined): holder is StoredHolder {
  if (!holder || holder.host !== os.hostname()) return false;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Moves the stale lock aside and checks it was the one we judged, so a fresh lock is never removed. */
async function removeStaleLock(file: string, stale: StoredHolder): Promise<void> {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const moved = await readHolder(aside);
  if (moved !== 'gone' && moved && (moved.pid !== stale.pid || moved.token !== stale.token)) {
    await link(aside, file).catch(() => undefined); // not the one we judged: put it back unless replaced
  }
  await unlink(aside).catch(() => undefined);
}

async function releaseLock(file: string, token: string): Promise<void> {
  const current = await readHolder(file);
  if (current !== 'gone' && current?.token === token) await unlink(file).catch(() => undefined);
}
