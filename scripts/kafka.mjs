#!/usr/bin/env node
// Runs a real Kafka broker, or a cluster of them, for local work, outside Docker (see scripts/kafka-lib.mjs).
//
//   node scripts/kafka.mjs start [--data-dir DIR] [--brokers N] [--version X.Y.Z]
//                                                   prints KAFKA_BROKERS=127.0.0.1:<port>[,...] last on stdout
//   node scripts/kafka.mjs stop  [--data-dir DIR]
//
// --brokers 3 starts a 3-node KRaft cluster on loopback (each node broker and controller;
// replication factor 3 and min.insync.replicas 2 by default). --version (or $MIGRATE_KAFKA_VERSION)
// runs another Kafka release, 3.9.0 or later. The default data dir is ${TMPDIR:-/tmp}/migrate-kafka.
// `start` reuses a broker or cluster of that size and version already serving from that dir;
// otherwise it wipes the dir and starts a fresh one, which keeps running after this command exits.

import path from 'node:path';

import { kafkaVersion, runningKafka, startKafka, startKafkaCluster, stopKafkaFromStateFile } from './kafka-lib.mjs';
import { serverCli, wipeDataDir } from './server-cli.mjs';

// Files and folders that scripts/kafka-lib.mjs writes into a data dir; a dir holding anything
// else is not ours to wipe.
const OURS = new Set([
  'broker.json',
  'cluster.json',
  'server.properties',
  'log4j2.properties',
  'log4j.properties',
  'server.log',
  'kafka.out',
  'kraft-logs',
  ...Array.from({ length: 9 }, (_, i) => `node-${i + 1}`),
]);

const log = (message) => process.stderr.write(`kafka: ${message}\n`);

async function start({ dataDir, brokers, version }) {
  const nodes = Number(brokers);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) throw new Error(`--brokers must be a whole number from 1 to 9, not "${brokers}"`);
  version = kafkaVersion(version);
  const running = await runningKafka(dataDir);
  if (running && running.version === version && (running.nodes?.length ?? 1) === nodes) {
    log(`reusing the Kafka ${version} already running from ${dataDir} (pid ${running.pids?.join(', ') ?? running.pid})`);
    process.stdout.write(`KAFKA_BROKERS=${running.brokers}\n`);
    return;
  }
  // Whatever is left there (a dead or hung broker, another size or version, old data) goes: start fresh.
  await stopKafkaFromStateFile(dataDir);
  await wipeDataDir(dataDir, OURS);
  log(`starting Kafka ${version}${nodes > 1 ? `, ${nodes} nodes,` : ''} with data in ${dataDir}`);
  const kafka = nodes > 1 ? await startKafkaCluster({ dataDir, nodes, log, version }) : await startKafka({ dataDir, log, version });
  const logs = nodes > 1 ? path.join(dataDir, 'node-*', 'server.log') : path.join(dataDir, 'server.log');
  log(`broker log: ${logs}; stop it with: node scripts/kafka.mjs stop`);
  process.stdout.write(`KAFKA_BROKERS=${kafka.brokers}\n`);
}

async function stop({ dataDir }) {
  const stopped = await stopKafkaFromStateFile(dataDir);
  log(stopped ? `stopped the Kafka running from ${dataDir}` : `no Kafka was running from ${dataDir}`);
}

await serverCli({
  name: 'kafka',
  commands: { start, stop },
  options: { '--brokers': ['brokers', '1'], '--version': ['version', undefined] },
});
