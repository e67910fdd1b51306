/**
 * The doors to Kafka. Each loads its kafkajs implementation on first use, so a command that never
 * reaches a cluster (`--help`, `status` on the file store) never loads kafkajs.
 */
import type { KafkaCluster, KafkaConnection } from './kafka.js';
import type { KafkaRunLog } from './kafka-run-log.js';

/** Connects to Kafka for steps and commands (kafka-kafkajs.ts). */
export async function connectKafka(connection: KafkaConnection): Promise<KafkaCluster> {
  const { KafkajsCluster } = await import('./kafka-kafkajs.js');
  return KafkajsCluster.connect(connection);
}

/** Connects the Kafka run store's log and lock groups (kafka-run-log-kafkajs.ts). */
export async function connectRunLog(connection: KafkaConnection): Promise<KafkaRunLog> {
  const { KafkajsRunLog } = await import('./kafka-run-log-kafkajs.js');
  return KafkajsRunLog.connect(connection);
}
