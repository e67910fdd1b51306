#!/usr/bin/env node
// Runs a real single-node Kafka broker for local work, outside Docker (see scripts/kafka-lib.mjs).
//
//   node scripts/kafka.mjs start [--data-dir DIR]   prints KAFKA_BROKERS=127.0.0.1:<port> last on stdout
//   node scripts/kafka.mjs stop  [--data-dir DIR]
//
// The default data dir is ${TMPDIR:-/tmp}/migrate-kafka. `start` reuses a broker already serving
// from that dir; otherwise it wipes the dir and starts a fresh one, which keeps running after
// this command exits.

import path from 'node:path';

import { KAFKA_VERSION, runningKafka, startKafka, stopKafkaFromStateFile } from './kafka-lib.mjs';
import { serverCli, wipeDataDir } from './server-cli.mjs';

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
  await wipeDataDir(dataDir, OURS);
  log(`starting Kafka ${KAFKA_VERSION} with data in ${dataDir}`);
  const kafka = await startKafka({ dataDir, log });
  log(`broker log: ${path.join(dataDir, 'server.log')}; stop it with: node scripts/kafka.mjs stop`);
  process.stdout.write(`KAFKA_BROKERS=${kafka.brokers}\n`);
}

async function stop(dataDir) {
  const stopped = await stopKafkaFromStateFile(dataDir);
  log(stopped ? `stopped the broker running from ${dataDir}` : `no broker was running from ${dataDir}`);
}

await serverCli({ name: 'kafka', commands: { start: ({ dataDir }) => start(dataDir), stop: ({ dataDir }) => stop(dataDir) } });
