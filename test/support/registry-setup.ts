// Part of the services globalSetup: one real Apicurio Registry (in-memory, no auth) for the run.
//
// With MIGRATE_SCHEMA_REGISTRY_URL set (e.g. from `node scripts/registry.mjs start`), that
// registry is used as it is. Otherwise scripts/registry-lib.mjs starts one in a fresh temp dir,
// and MIGRATE_SCHEMA_REGISTRY_URL (its ccompat base URL) is set in this process's environment,
// which the test workers and the CLI subprocesses they spawn inherit.
import type { TestProject } from 'vitest/node';

import { startRegistry } from '../../scripts/registry-lib.mjs';
import { startServerForTests } from './server-setup.js';

declare module 'vitest' {
  export interface ProvidedContext {
    schemaRegistryUrl: string;
  }
}

const log = (message: string): void => {
  process.stderr.write(`[registry] ${message}\n`);
};

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.MIGRATE_SCHEMA_REGISTRY_URL?.trim();
  if (external) {
    project.provide('schemaRegistryUrl', external);
    return undefined;
  }

  const { server, teardown } = await startServerForTests({
    prefix: 'migrate-registry-test-',
    start: (dataDir) => startRegistry({ dataDir, log }),
    pids: (registry) => [registry.pid],
    env: (registry) => ({ MIGRATE_SCHEMA_REGISTRY_URL: registry.url }),
  });
  project.provide('schemaRegistryUrl', server.url);
  return teardown;
}
