// vitest globalSetup: one real Kafka broker for the whole run.
//
// With KAFKA_BROKERS set (e.g. from `node scripts/kafka.mjs start`), that cluster is used as it is.
// Otherwise a single-node Kafka (scripts/kafka-lib.mjs) starts in a fresh temp dir, and
// KAFKA_BROKERS is set in this process's environment, which the test workers and any CLI
// subprocess they spawn inherit. Tests read it through kafkaBrokers() in test/support/kafka.ts.
// MIGRATE_KAFKA_VERSION=3.9.2 starts that Kafka instead of the default (npm run test:kafka-3.9);
// the version is provided to the tests as brokerVersion().
import type { TestProject } from 'vitest/node';

import { ensureKafkaJars, kafkaVersion, startKafka } from '../../scripts/kafka-lib.mjs';
import { startServerForTests } from './server-setup.js';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string;
    kafkaVersion: string;
  }
}

const log = (message: string): void => {
  process.stderr.write(`[kafka] ${message}\n`);
};

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  // For an external cluster, MIGRATE_KAFKA_VERSION says what it runs (else the default is assumed).
  const version = kafkaVersion();
  project.provide('kafkaVersion', version);
  const external = process.env.KAFKA_BROKERS?.trim();
  if (external) {
    project.provide('kafkaBrokers', external);
    return undefined;
  }

  await ensureKafkaJars({ log, version });
  const { server, teardown } = await startServerForTests({
    prefix: 'migrate-kafka-test-',
    start: (dataDir) => startKafka({ dataDir, log, version }),
    pids: (kafka) => [kafka.pid],
    env: (kafka) => ({ KAFKA_BROKERS: kafka.brokers }),
  });
  project.provide('kafkaBrokers', server.brokers);
  return teardown;
}
