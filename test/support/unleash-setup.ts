// vitest globalSetup (called from services-setup.ts): a real Unleash on a private PostgreSQL
// cluster for the tests in test/services/.
//
// With UNLEASH_URL set (e.g. from `npm run unleash:start`), that server is used as it is, with
// UNLEASH_API_TOKEN and UNLEASH_CLIENT_TOKEN from the environment. Otherwise scripts/unleash-lib.mjs
// installs unleash-server once into the cache and starts it with PostgreSQL in a fresh temp dir,
// and the URL and generated tokens are set in this process's environment, which the test workers
// and any CLI subprocess they spawn inherit.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import type { TestProject } from 'vitest/node';

import { startUnleash, type UnleashHandle } from '../../scripts/unleash-lib.mjs';

const log = (message: string): void => {
  process.stderr.write(`[unleash] ${message}\n`);
};

/** The environment variables this setup sets, and removes again at teardown. */
const EXPORTED = ['UNLEASH_URL', 'UNLEASH_API_TOKEN', 'UNLEASH_CLIENT_TOKEN', 'UNLEASH_CLIENT_TOKEN_PRODUCTION'] as const;

export default async function setup(_project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.UNLEASH_URL?.trim()) {
    if (!process.env.UNLEASH_API_TOKEN) throw new Error('UNLEASH_URL is set but UNLEASH_API_TOKEN is not: set both (npm run unleash:start prints them), or neither');
    return undefined;
  }

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'migrate-unleash-test-'));
  let unleash: UnleashHandle;
  try {
    unleash = await startUnleash({ dataDir, log });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  // Both servers run detached; if this process dies without running the teardown, take them
  // with it rather than leave them behind.
  const killOnExit = (): void => {
    for (const pid of [unleash.pid, unleash.postgres.pid]) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', killOnExit);

  process.env.UNLEASH_URL = unleash.url;
  process.env.UNLEASH_API_TOKEN = unleash.adminToken;
  process.env.UNLEASH_CLIENT_TOKEN = unleash.clientToken;
  const production = unleash.clientTokens.production;
  if (production) process.env.UNLEASH_CLIENT_TOKEN_PRODUCTION = production;

  return async () => {
    try {
      await unleash.stop();
    } finally {
      process.removeListener('exit', killOnExit);
      for (const name of EXPORTED) delete process.env[name];
      await rm(dataDir, { recursive: true, force: true });
    }
  };
}
