#!/usr/bin/env node
// Runs a real Apicurio Registry for local work (see scripts/registry-lib.mjs).
//
//   node scripts/registry.mjs start [--data-dir DIR]   prints MIGRATE_SCHEMA_REGISTRY_URL=<ccompat URL> last on stdout
//   node scripts/registry.mjs stop  [--data-dir DIR]
//
// The default data dir is ${TMPDIR:-/tmp}/migrate-registry. `start` reuses a registry already
// serving from that dir; otherwise it starts a fresh (empty, in-memory) one, which keeps running
// after this command exits.

import path from 'node:path';

import { APICURIO_VERSION, runningRegistry, startRegistry, stopRegistryFromStateFile } from './registry-lib.mjs';
import { serverCli } from './server-cli.mjs';

const log = (message) => process.stderr.write(`registry: ${message}\n`);

async function start(dataDir) {
  const running = await runningRegistry(dataDir);
  if (running) {
    log(`reusing the registry already running from ${dataDir} (pid ${running.pid})`);
    process.stdout.write(`MIGRATE_SCHEMA_REGISTRY_URL=${running.url}\n`);
    return;
  }
  await stopRegistryFromStateFile(dataDir); // a dead or hung one left behind
  log(`starting Apicurio Registry ${APICURIO_VERSION} (in-memory storage) from ${dataDir}`);
  const registry = await startRegistry({ dataDir, log });
  log(`log: ${path.join(dataDir, 'registry.out')}; stop it with: node scripts/registry.mjs stop`);
  process.stdout.write(`MIGRATE_SCHEMA_REGISTRY_URL=${registry.url}\n`);
}

async function stop(dataDir) {
  const stopped = await stopRegistryFromStateFile(dataDir);
  log(stopped ? `stopped the registry running from ${dataDir}` : `no registry was running from ${dataDir}`);
}

await serverCli({ name: 'registry', commands: { start: ({ dataDir }) => start(dataDir), stop: ({ dataDir }) => stop(dataDir) } });
