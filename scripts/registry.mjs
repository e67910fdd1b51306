#!/usr/bin/env node
// Runs a real Apicurio Registry for local work (see scripts/registry-lib.mjs).
//
//   node scripts/registry.mjs start [--data-dir DIR]   prints MIGRATE_SCHEMA_REGISTRY_URL=<ccompat URL> last on stdout
//   node scripts/registry.mjs stop  [--data-dir DIR]
//
// The default data dir is ${TMPDIR:-/tmp}/migrate-registry. `start` reuses a registry already
// serving from that dir; otherwise it starts a fresh (empty, in-memory) one, which keeps running
// after this command exits.

import os from 'node:os';
import path from 'node:path';

import { APICURIO_VERSION, runningRegistry, startRegistry, stopRegistryFromStateFile } from './registry-lib.mjs';

const USAGE = 'usage: node scripts/registry.mjs start|stop [--data-dir DIR]';

class UsageError extends Error {}

function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command === '-h' || command === '--help' || command === 'help') return { command: 'help' };
  let dataDir = path.join(process.env.TMPDIR || os.tmpdir(), 'migrate-registry');
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--data-dir' || arg === '-d') {
      const value = rest[++i];
      if (!value) throw new UsageError(`${arg} needs a directory; ${USAGE}`);
      dataDir = value;
    } else if (arg.startsWith('--data-dir=')) {
      dataDir = arg.slice('--data-dir='.length);
    } else {
      throw new UsageError(`unknown argument ${arg}; ${USAGE}`);
    }
  }
  if (command !== 'start' && command !== 'stop') throw new UsageError(command ? `unknown command ${command}; ${USAGE}` : USAGE);
  return { command, dataDir: path.resolve(dataDir) };
}

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

try {
  const { command, dataDir } = parseArgs(process.argv.slice(2));
  if (command === 'help') process.stdout.write(`${USAGE}\n`);
  else await (command === 'start' ? start(dataDir) : stop(dataDir));
  process.exitCode = 0;
} catch (err) {
  process.stderr.write(`registry: error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
