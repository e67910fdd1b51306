// Part of the services globalSetup: one real Apicurio Registry (in-memory, no auth) for the run.
//
// With MIGRATE_SCHEMA_REGISTRY_URL set (e.g. from `node scripts/registry.mjs start`), that
// registry is used as it is. Otherwise scripts/registry-lib.mjs starts one in a fresh temp dir,
// and MIGRATE_SCHEMA_REGISTRY_URL (its ccompat base URL) is set in this process's environment,
// which the test workers and the CLI subprocesses they spawn inherit.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import type { TestProject } from 'vitest/node';

import { startRegistry } from '../../scripts/registry-lib.mjs';

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

  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'migrate-registry-test-'));
  let registry: Awaited<ReturnType<typeof startRegistry>>;
  try {
    registry = await startRegistry({ dataDir, log });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  // The JVM runs detached; if this process dies without running the teardown, take it along.
  const killOnExit = (): void => {
    try {
      process.kill(-registry.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killOnExit);

  process.env.MIGRATE_SCHEMA_REGISTRY_URL = registry.url;
  project.provide('schemaRegistryUrl', registry.url);

  return async () => {
    try {
      await registry.stop();
    } finally {
      process.removeListener('exit', killOnExit);
      delete process.env.MIGRATE_SCHEMA_REGISTRY_URL;
      await rm(dataDir, { recursive: true, force: true });
    }
  };
}
