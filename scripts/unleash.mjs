#!/usr/bin/env node
// Runs a real Unleash server on a private PostgreSQL cluster for local work (see scripts/unleash-lib.mjs).
//
//   node scripts/unleash.mjs start [--data-dir DIR]   prints UNLEASH_URL, UNLEASH_API_TOKEN, UNLEASH_CLIENT_TOKEN on stdout
//   node scripts/unleash.mjs stop  [--data-dir DIR]
//
// The default data dir is ${TMPDIR:-/tmp}/migrate-unleash. `start` always starts a fresh server
// (wiping that dir): the tokens are generated per start and printed once, never written to disk,
// so a server already running cannot hand them out again.

import path from 'node:path';

import { UNLEASH_VERSION, startUnleash, stopUnleashFromStateFile } from './unleash-lib.mjs';
import { serverCli, wipeDataDir } from './server-cli.mjs';

// What scripts/unleash-lib.mjs writes into a data dir; a dir holding anything else is not ours to wipe.
const OURS = new Set(['unleash.json', 'pgdata', 'postgres.log', 'unleash.log']);

const log = (message) => process.stderr.write(`unleash: ${message}\n`);

async function start(dataDir) {
  if (await stopUnleashFromStateFile(dataDir)) log(`stopped the server that was running from ${dataDir}`);
  await wipeDataDir(dataDir, OURS);
  log(`starting Unleash ${UNLEASH_VERSION} with data in ${dataDir}`);
  const unleash = await startUnleash({ dataDir, log });
  log(`logs: ${path.join(dataDir, 'unleash.log')}, ${path.join(dataDir, 'postgres.log')}; stop with: node scripts/unleash.mjs stop`);
  process.stdout.write(`UNLEASH_URL=${unleash.url}\nUNLEASH_API_TOKEN='${unleash.adminToken}'\nUNLEASH_CLIENT_TOKEN='${unleash.clientToken}'\n`);
}

async function stop(dataDir) {
  const stopped = await stopUnleashFromStateFile(dataDir);
  log(stopped ? `stopped Unleash and PostgreSQL running from ${dataDir}` : `nothing was running from ${dataDir}`);
}

await serverCli({ name: 'unleash', commands: { start: ({ dataDir }) => start(dataDir), stop: ({ dataDir }) => stop(dataDir) } });
