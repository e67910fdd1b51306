// vitest globalSetup: one real Kafka broker for the whole run.
//
// With KAFKA_BROKERS set (e.g. from `node scripts/kafka.mjs start`), that cluster is used as it is.
// Otherwise a single-node Kafka (scripts/kafka-lib.mjs) starts in a fresh temp dir, and
// KAFKA_BROKERS is set in this process's environment, which the test workers and any CLI
// subprocess they spawn inherit. Tests read it through kafkaBrokers() in test/support/kafka.ts.
import type { TestProject } from 'vitest/node';

import { ensureKafkaJars, startKafka } from '../../scripts/kafka-lib.mjs';
import { startServerForTests } from './server-setup.js';

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
  const { server, teardown } = await startServerForTests({
    prefix: 'migrate-kafka-test-',
    start: (dataDir) => startKafka({ dataDir, log }),
    pids: (kafka) => [kafka.pid],
    env: (kafka) => ({ KAFKA_BROKERS: kafka.brokers }),
  });
  project.provide('kafkaBrokers', server.brokers);
  return teardown;
}
