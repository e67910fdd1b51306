import { inject } from 'vitest';
import { kafkaVersion } from '../../scripts/kafka-lib.mjs';

/**
 * The bootstrap servers of the Kafka cluster the tests run against: what
 * test/support/global-setup.ts provided, else $KAFKA_BROKERS (comma-separated).
 */
export function kafkaBrokers(): string[] {
  let value: string | undefined;
  try {
    value = inject('kafkaBrokers');
  } catch {
    // not inside a vitest worker
  }
  value ||= process.env.KAFKA_BROKERS;
  const brokers = (value ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  if (brokers.length === 0) {
    throw new Error(
      'no Kafka brokers: set KAFKA_BROKERS, or register test/support/global-setup.ts as a vitest globalSetup',
    );
  }
  return brokers;
}

/**
 * The Kafka version of the broker the tests run against (x.y.z): what the global setup provided,
 * else $MIGRATE_KAFKA_VERSION, else the default scripts/kafka-lib.mjs runs.
 */
export function brokerVersion(): string {
  try {
    const provided = inject('kafkaVersion');
    if (provided) return provided;
  } catch {
    // not inside a vitest worker
  }
  return kafkaVersion();
}

/**
 * Whether the broker is at least `version` ("4.0", "4.1.1"). For a test of a feature older
 * brokers lack: `it.skipIf(!brokerAtLeast('4.0'))('... (KIP-848 consumer groups: Kafka 4.0+)', ...)`.
 */
export function brokerAtLeast(version: string): boolean {
  const have = brokerVersion().split('.').map(Number);
  const want = version.split('.').map(Number);
  for (let i = 0; i < want.length; i++) {
    const a = have[i] ?? 0;
    const b = want[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}
