// vitest globalSetup (called from services-setup.ts): a real Unleash on a private PostgreSQL
// cluster for the tests in test/services/.
//
// With UNLEASH_URL set (e.g. from `npm run unleash:start`), that server is used as it is, with
// UNLEASH_API_TOKEN and UNLEASH_CLIENT_TOKEN from the environment. Otherwise scripts/unleash-lib.mjs
// installs unleash-server once into the cache and starts it with PostgreSQL in a fresh temp dir,
// and the URL and generated tokens are set in this process's environment, which the test workers
// and any CLI subprocess they spawn inherit.
import type { TestProject } from 'vitest/node';

import { startUnleash } from '../../scripts/unleash-lib.mjs';
import { startServerForTests } from './server-setup.js';

const log = (message: string): void => {
  process.stderr.write(`[unleash] ${message}\n`);
};

export default async function setup(_project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (process.env.UNLEASH_URL?.trim()) {
    if (!process.env.UNLEASH_API_TOKEN) throw new Error('UNLEASH_URL is set but UNLEASH_API_TOKEN is not: set both (npm run unleash:start prints them), or neither');
    return undefined;
  }

  const { teardown } = await startServerForTests({
    prefix: 'migrate-unleash-test-',
    start: (dataDir) => startUnleash({ dataDir, log }),
    pids: (unleash) => [unleash.pid, unleash.postgres.pid],
    env: (unleash) => ({
      UNLEASH_URL: unleash.url,
      UNLEASH_API_TOKEN: unleash.adminToken,
      UNLEASH_CLIENT_TOKEN: unleash.clientToken,
      ...(unleash.clientTokens.production ? { UNLEASH_CLIENT_TOKEN_PRODUCTION: unleash.clientTokens.production } : {}),
    }),
  });
  return teardown;
}
