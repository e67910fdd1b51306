import { z } from 'zod';
import { DriftError } from '../errors.js';
import { defineStep } from './contract.js';

const params = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name uses letters, digits, ".", "_" and "-" (at most 249)'),
    partitions: z.coerce.number().int().min(1).max(100_000).default(1),
    replicationFactor: z.coerce.number().int().min(1).max(32).default(1),
    configs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  })
  .strict();

/** kafka.topic: the topic exists with the declared partitions, replication factor and configs. */
export const kafkaTopicStep = defineStep({
  type: 'kafka.topic',
  needs: ['kafka'],
  params,
  timeoutMs: 60_000,
  intervalMs: 250,
  irreversible: 'the topic and its data are kept; delete it by hand if you mean to',
  describe: (p) => `topic ${p.name} (${p.partitions} partitions, replication ${p.replicationFactor})`,

  async check(p, ctx) {
    const kafka = await ctx.kafka();
    const topic = await kafka.describeTopic(p.name, Object.keys(p.configs));
    if (!topic) return { done: false, summary: `topic ${p.name} does not exist` };
    const differences: string[] = [];
    if (topic.partitions !== p.partitions) differences.push(`partitions: declared ${p.partitions}, found ${topic.partitions}`);
    if (topic.replicationFactor !== p.replicationFactor) {
      differences.push(`replication factor: declared ${p.replicationFactor}, found ${topic.replicationFactor}`);
    }
    for (const [key, want] of Object.entries(p.configs)) {
      const got = topic.configs[key];
      if (got !== want) differences.push(`${key}: declared ${want}, found ${got ?? '(unset)'}`);
    }
    if (differences.length) throw new DriftError(`topic ${p.name}`, differences);
    return {
      done: true,
      summary: `topic ${p.name} exists with ${topic.partitions} partitions`,
      outputs: { name: p.name, partitions: topic.partitions },
    };
  },

  async apply(p, ctx) {
    const kafka = await ctx.kafka();
    const created = await kafka.createTopic({ ...p });
    return { created };
  },
});
