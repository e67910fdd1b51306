// vitest globalSetup: one real Kafka broker for the whole run.
//
// With KAFKA_BROKERS set (e.g. from `node scripts/kafka.mjs start`), that cluster is used as it is.
// Otherwise a single-node Kafka (scripts/kafka-lib.mjs) starts in a fresh temp dir, and
// KAFKA_BROKERS is set in this process's environment, which the test workers and any CLI
// subprocess they spawn inherit. Tests read it through kafkaBrokers() in test/support/kafka.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import type { TestProject } from 'vitest/node';

import { ensureKafkaJars, startKafka } from '../../scripts/kafka-lib.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
  }
}

const log = (message: string): void => {
  process.stderr.write(`[kafka] ${message}\n`);
};

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.KAFKA_BROKERS?.trim();
  if (external) {
    project.provide('kafkaBrokers', external);
    return undefined;
  }

  await ensureKafkaJars({ log });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'migrate-kafka-test-'));
  let kafka: Awaited<ReturnType<typeof startKafka>>;
  try {
    kafka = await startKafka({ dataDir, log });
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  // The broker runs detached; if this process dies without running the teardown, take the
  // broker with it rather than leave it behind.
  const killOnExit = (): void => {
    try {
      process.kill(-kafka.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', killOnExit);

  process.env.KAFKA_BROKERS = kafka.brokers;
  project.provide('kafkaBrokers', kafka.brokers);

  return async () => {
    try {
      await kafka.stop();
    } finally {
      process.removeListener('exit', killOnExit);
      delete process.env.KAFKA_BROKERS;
      await rm(dataDir, { recursive: true, force: true });
    }
  };
}
