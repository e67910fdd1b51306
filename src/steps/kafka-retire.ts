import { z } from 'zod';
import { defineStep } from './contract.js';

const params = z.object({ group: z.string().min(1) }).strict();

/**
 * kafka.retire: the consumer group has no members any more, then it is deleted. Either group
 * protocol (classic or consumer); a share or streams group is an error.
 */
export const kafkaRetireStep = defineStep({
  type: 'kafka.retire',
  needs: ['kafka'],
  params,
  timeoutMs: 10 * 60_000,
  intervalMs: 1000,
  irreversible: 'the consumer group stays deleted; it comes back when its consumers start again',
  describe: (p) => `consumer group ${p.group} is stopped and deleted`,

  async check(p, ctx) {
    const kafka = await ctx.kafka();
    const group = await kafka.describeGroup(p.group);
    if (group.state === 'Dead') return { done: true, summary: `group ${p.group} does not exist (deleted)` };
    if (group.members.length > 0) {
      const who = group.members.slice(0, 5).map((m) => `${m.clientId}@${m.host}`).join(', ');
      return {
        done: false,
        wait: true,
        summary: `group ${p.group} still has ${group.members.length} member${group.members.length === 1 ? '' : 's'} (${who}); turn the consumers off`,
      };
    }
    return { done: false, summary: `group ${p.group} has no members (state ${group.state})` };
  },

  async apply(p, ctx) {
    const kafka = await ctx.kafka();
    return { deleted: await kafka.deleteGroup(p.group) };
  },
});
