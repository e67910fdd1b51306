import { createHook } from 'node:async_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { KafkajsCluster } from '../../src/adapters/kafka-kafkajs.js';
import { kafkaBrokers } from '../support/kafka.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** How many timers this process sets while `fn` runs. */
async function timersSetDuring(fn: () => Promise<void>): Promise<number> {
  let count = 0;
  const hook = createHook({ init: (_id, type) => void (type === 'Timeout' && count++) });
  hook.enable();
  try {
    await fn();
  } finally {
    hook.disable();
  }
  return count;
}

describe('an idle kafkajs connection (tulios/kafkajs#1751)', () => {
  it('sets no timers while nothing is pending, and Node warns of no negative timeout', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    cleanups.push(async () => void process.off('warning', onWarning));

    const admin = await KafkajsCluster.connect({ brokers: kafkaBrokers(), clientId: 'idle-timers' });
    cleanups.push(() => admin.close());
    await admin.listTopics();
    await admin.describeCluster();

    // Unfixed, each open connection re-arms a 1 ms timer for as long as it is open: hundreds a second.
    const timers = await timersSetDuring(() => new Promise((r) => setTimeout(r, 1000)));
    expect(timers).toBeLessThan(20);
    // Node 23+ warns of the unfixed timer's negative delay; Node 20 never does (nothing to see there).
    expect(warnings.filter((w) => w.startsWith('TimeoutNegativeWarning'))).toEqual([]);
  });
});
