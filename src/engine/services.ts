import { openFlagEvaluator, openFlagProvider } from '../adapters/flags-open.js';
import type { KafkaCluster } from '../adapters/kafka.js';
import { connectKafka } from '../adapters/kafka-connect.js';
import { openSchemaRegistry } from '../adapters/schemas-open.js';
import type { Config } from '../config.js';
import { KafkaNotConfiguredError } from '../errors.js';
import type { StepContext } from '../steps/contract.js';

/** The outside world as steps reach it: adapters connected on first use, and the working directory. */
export type Services = Pick<StepContext, 'kafka' | 'flags' | 'schemas' | 'cwd'> & Partial<Pick<StepContext, 'flagEvaluator'>>;

/** The real services, connected on first use; `close()` disconnects whatever was connected. */
export interface OpenServices extends Services {
  close(): Promise<void>;
}

/**
 * The outside world as the configuration names it: Kafka (one connection, shared by every step,
 * made when a step first asks), the flag provider and the schema registry. `run`, `plan` and
 * `rollback` all reach the world through this, so they see it the same way.
 */
export function openServices(config: Config, cwd: string): OpenServices {
  let kafka: Promise<KafkaCluster> | undefined;
  return {
    cwd,
    kafka: () => {
      const conn = config.kafka;
      if (!conn) return Promise.reject(new KafkaNotConfiguredError());
      kafka ??= connectKafka(conn).catch((err: unknown) => {
        kafka = undefined; // the next attempt connects again
        throw err;
      });
      return kafka;
    },
    flags: () => openFlagProvider(config.flags),
    flagEvaluator: () => openFlagEvaluator(config.flags),
    schemas: () => openSchemaRegistry(config.schemas),
    close: async () => {
      await kafka?.then((k) => k.close()).catch(() => undefined);
    },
  };
}
