#!/usr/bin/env node
// Runs a real single-node Kafka broker for local work, outside Docker (see scripts/kafka-lib.mjs).
//
//   node scripts/kafka.mjs start [--data-dir DIR]   prints KAFKA_BROKERS=127.0.0.1:<port> last on stdout
//   node scripts/kafka.mjs stop  [--data-dir DIR]
//
// The default data dir is ${TMPDIR:-/tmp}/migrate-kafka. `start` reuses a broker already serving
// from that dir; otherwise it wipes the dir and starts a fresh one, which keeps running after
// this command exits.

import { mkdir, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { KAFKA_VERSION, runningKafka, startKafka, stopKafkaFromStateFile } from './kafka-lib.mjs';

const USAGE = 'usage: node scripts/kafka.mjs start|stop [--data-dir DIR]';
// Files and folders that scripts/kafka-lib.mjs writes into a data dir; a dir holding anything
// else is not ours to wipe.
const OURS = new Set([
  'broker.json',
  'server.properties',
  'log4j2.properties',
  'server.log',
  'kafka.out',
  'kraft-logs',
]);

class UsageError extends Error {}

function parseArgs(argv) {
  const [command, ...rest] = argv;
  if (command === '-h' || command === '--help' || command === 'help') return { command: 'help' };
  let dataDir = path.join(process.env.TMPDIR || os.tmpdir(), 'migrate-kafka');
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
  if (command !== 'start' && command !== 'stop') {
    throw new UsageError(command ? `unknown command ${command}; ${USAGE}` : USAGE);
  }
  return { command, dataDir: path.resolve(dataDir) };
}

const log = (message) => process.stderr.write(`kafka: ${message}\n`);

async function start(dataDir) {
  const running = await runningKafka(dataDir);
  if (running) {
    log(`reusing the broker already running from ${dataDir} (pid ${running.pid})`);
    process.stdout.write(`KAFKA_BROKERS=${running.brokers}\n`);
    return;
  }
  // Whatever is left there (a dead or hung broker, old data) goes: start fresh.
  await stopKafkaFromStateFile(dataDir);
  await wipe(dataDir);
  log(`starting Kafka ${KAFKA_VERSION} with data in ${dataDir}`);
  const kafka = await startKafka({ dataDir, log });
  log(`broker log: ${path.join(dataDir, 'server.log')}; stop it with: node scripts/kafka.mjs stop`);
  process.stdout.write(`KAFKA_BROKERS=${kafka.brokers}\n`);
}

async function stop(dataDir) {
  const stopped = await stopKafkaFromStateFile(dataDir);
  log(stopped ? `stopped the broker running from ${dataDir}` : `no broker was running from ${dataDir}`);
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
    throw new Error(
      `${dataDir} holds files this script did not write (${foreign.slice(0, 3).join(', ')}); ` +
        'refusing to wipe it: pass another --data-dir',
    );
  }
  await Promise.all(entries.map((name) => rm(path.join(dataDir, name), { recursive: true, force: true })));
}

try {
  const { command, dataDir } = parseArgs(process.argv.slice(2));
  if (command === 'help') process.stdout.write(`${USAGE}\n`);
  else await (command === 'start' ? start(dataDir) : stop(dataDir));
  process.exitCode = 0;
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`kafka: error: ${message}\n`);
  process.exitCode = 1;
}
