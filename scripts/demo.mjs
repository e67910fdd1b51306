#!/usr/bin/env node
// `npm run demo`: a real local Kafka broker, a demo migration run against it, end to end.
//
// 1. starts (or reuses) a single-node Kafka from Maven Central jars (scripts/kafka-lib.mjs);
// 2. runs the built-in `demo` playbook without a terminal: it creates the topic and pauses at
//    the go-live gate (exit 3), printing the command that continues;
// 3. plays the services: a producer writes a backlog of events, a consumer group reads it;
// 4. continues the run with --approve: the drain step reports falling lag until it is 0;
// 5. prints `migrate status`, and stops the broker if it started it (--keep leaves it running).

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { ensureKafkaJars, runningKafka, startKafka } from './kafka-lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const keep = process.argv.includes('--keep');
const say = (text) => process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);

function migrate(args, env) {
  return new Promise((resolve, reject) => {
    process.stdout.write(`$ migrate ${args.join(' ')}\n`);
    const child = spawn(process.execPath, [path.join(root, 'bin/migrate'), ...args], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
}

async function main() {
  say('Starting a local Apache Kafka broker');
  const dataDir = path.join(os.tmpdir(), 'migrate-kafka');
  let broker = await runningKafka(dataDir);
  let started;
  if (!broker) {
    await ensureKafkaJars({ log: (m) => process.stdout.write(`kafka: ${m}\n`) });
    await rm(dataDir, { recursive: true, force: true });
    started = await startKafka({ dataDir, log: (m) => process.stdout.write(`kafka: ${m}\n`) });
    broker = started;
  }
  process.stdout.write(`KAFKA_BROKERS=${broker.brokers}\n`);
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'migrate-demo-state-'));
  const env = { KAFKA_BROKERS: broker.brokers, MIGRATE_STATE_DIR: stateDir, CI: 'true' };
  const topic = `orders-${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
  const run = ['run', 'demo', '--param', `topic=${topic}`];
  const kafka = new kafkajs.Kafka({ clientId: 'migrate-demo', brokers: [broker.brokers], logLevel: kafkajs.logLevel.NOTHING });
  let consumer;
  try {
    say('Run the demo playbook; without a terminal it pauses at the gate');
    const paused = await migrate(run, env);
    if (paused !== 3) throw new Error(`expected the run to pause at its gate (exit 3), got exit ${paused}`);

    say('The source goes live: 600 ExerciseCompleted events; a consumer group reads them slowly');
    const producer = kafka.producer();
    await producer.connect();
    const events = Array.from({ length: 600 }, (_, i) => ({
      key: `exercise-${i % 50}`,
      value: JSON.stringify({ event_id: `e-${i}`, event_version: 0, event_name: 'ExerciseCompleted', produced_at: new Date().toISOString(), payload: { exercise_id: `ex-${i}` } }),
    }));
    await producer.send({ topic: `datarep.${topic}`, messages: events });
    await producer.disconnect();
    consumer = kafka.consumer({ groupId: `${topic}-consumers`, maxBytesPerPartition: 4096, maxWaitTimeInMs: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic: `datarep.${topic}`, fromBeginning: true });
    await consumer.run({ autoCommitInterval: 200, eachMessage: () => new Promise((r) => setTimeout(r, 8)) });

    say('Approve the gate and continue: the drain step waits until the group has read everything');
    const done = await migrate([...run, '--approve', 'go-live'], env);
    if (done !== 0) throw new Error(`the run did not complete (exit ${done})`);

    say('migrate status');
    await migrate(['status'], env);
  } finally {
    await consumer?.disconnect().catch(() => undefined);
    await rm(stateDir, { recursive: true, force: true });
    if (started && !keep) {
      say('Stopping the broker (npm run demo -- --keep leaves it running)');
      await started.stop();
    }
  }
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${err.message}\n`);
  process.exitCode = 1;
});
