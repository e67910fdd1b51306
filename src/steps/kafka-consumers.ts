import { z } from 'zod';
import { defineStep } from './contract.js';

const params = z
  .object({
    group: z.string().min(1),
    topic: z.string().min(1),
    /** At least this many members (default 1). */
    minMembers: z.coerce.number().int().min(1).default(1),
  })
  .strict();

/**
 * kafka.consumers: the group is Stable, has members, and every partition of the topic is assigned to
 * one. Either group protocol (classic or consumer); a share or streams group is an error.
 */
export const kafkaConsumersStep = defineStep({
  type: 'kafka.consumers',
  needs: ['kafka'],
  params,
  timeoutMs: 5 * 60_000,
  intervalMs: 1000,
  describe: (p) => `consumer group ${p.group} is up and assigned every partition of ${p.topic}`,

  async check(p, ctx) {
    const kafka = await ctx.kafka();
    const [group, offsets] = await Promise.all([kafka.describeGroup(p.group), kafka.topicOffsets(p.topic)]);
    const partitions = offsets.map((o) => o.partition);
    if (partitions.length === 0) return { done: false, summary: `topic ${p.topic} has no partitions (does it exist?)` };
    if (group.state === 'Dead' || group.members.length === 0) {
      return { done: false, summary: `group ${p.group} has no members (state ${group.state}); start the consumers` };
    }
    if (group.state !== 'Stable') return { done: false, summary: `group ${p.group} is ${group.state} with ${plural(group.members.length, 'member')}` };
    if (group.members.length < p.minMembers) {
      return { done: false, summary: `group ${p.group} has ${plural(group.members.length, 'member')}, expected at least ${p.minMembers}` };
    }
    const assigned = new Set(group.members.flatMap((m) => m.assignment[p.topic] ?? []));
    const missing = partitions.filter((n) => !assigned.has(n));
    if (missing.length) {
      const subscribed = group.members.flatMap((m) => Object.keys(m.assignment));
      return {
        done: false,
        summary:
          assigned.size === 0
            ? `group ${p.group} is Stable but not assigned ${p.topic} (its members consume: ${[...new Set(subscribed)].join(', ') || 'nothing'})`
            : `partitions ${missing.join(', ')} of ${p.topic} are not assigned to any member of ${p.group}`,
      };
    }
    return {
      done: true,
      summary: `group ${p.group} is Stable: ${plural(group.members.length, 'member')} ${group.members.length === 1 ? 'owns' : 'own'} all ${partitions.length} partitions of ${p.topic}`,
      outputs: { members: group.members.length, partitions: partitions.length, protocol: group.type },
    };
  },
});

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
