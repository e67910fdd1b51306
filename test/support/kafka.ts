import { inject } from 'vitest';

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
