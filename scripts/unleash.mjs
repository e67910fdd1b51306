#!/usr/bin/env node
// Runs a real Unleash server on a private PostgreSQL cluster for local work (see scripts/unleash-lib.mjs).
//
//   node scripts/unleash.mjs start [--data-dir DIR]   prints UNLEASH_URL, UNLEASH_API_TOKEN, UNLEASH_CLIENT_TOKEN on stdout
//   node scripts/unleash.mjs stop  [--data-dir DIR]
//
// The default data dir is ${TMPDIR:-/tmp}/migrate-unleash. `start` always starts a fresh server
// (wiping that dir): the tokens are generated per start and printed once, never written to disk,
// so a server already running cannot hand them out again.

import { mkdir, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { UNLEASH_VERSION, startUnleash, stopUnleashFromStateFile } from './unleash-lib.mjs';

const USAGE = 'usage: node scripts/unleash.mjs start|stop [--data-dir DIR]';
// What scripts/unleash-lib.mjs writes into a data dir; a dir holding anything else is not ours to wipe.
const OURS = new Set(['unleash.json', 'pgdata', 'postgres.log', 'unleash.log']);

class UsageError extends Error {}

function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command === '-h' || command === '--help' || command === 'help') return { command: 'help' };
  let dataDir = path.join(process.env.TMPDIR || os.tmpdir(), 'migrate-unleash');
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

const log = (message) => process.stderr.write(`unleash: ${message}\n`);

async function start(dataDir) {
  if (await stopUnleashFromStateFile(dataDir)) log(`stopped the server that was running from ${dataDir}`);
  await wipe(dataDir);
  log(`starting Unleash ${UNLEASH_VERSION} with data in ${dataDir}`);
  const unleash = await startUnleash({ dataDir, log });
  log(`logs: ${path.join(dataDir, 'unleash.log')}, ${path.join(dataDir, 'postgres.log')}; stop with: node scripts/unleash.mjs stop`);
  process.stdout.write(`UNLEASH_URL=${unleash.url}\nUNLEASH_API_TOKEN='${unleash.adminToken}'\nUNLEASH_CLIENT_TOKEN='${unleash.clientToken}'\n`);
}

async function stop(dataDir) {
  const stopped = await stopUnleashFromStateFile(dataDir);
  log(stopped ? `stopped Unleash and PostgreSQL running from ${dataDir}` : `nothing was running from ${dataDir}`);
}

async function wipe(dataDir) {
  let entries;
  try {
    entries = await readdir(dataDir);
  } catch (err) {
    if (err.code === 'ENOENT') return mkdir(dataDir, { recursive: true });
    throw err;
  }
  const foreign = entries.filter((name) => !OURS.has(name));
  if (foreign.length > 0) {
    throw new Error(`${dataDir} holds files this script did not write (${foreign.slice(0, 3).join(', ')}); refusing to wipe it: pass another --data-dir`);
  }
  await Promise.all(entries.map((name) => rm(path.join(dataDir, name), { recursive: true, force: true })));
}

try {
  const { command, dataDir } = parseArgs(process.argv.slice(2));
  if (command === 'help') process.stdout.write(`${USAGE}\n`);
  else await (command === 'start' ? start(dataDir) : stop(dataDir));
  process.exitCode = 0;
} catch (err) {
  process.stderr.write(`unleash: error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
