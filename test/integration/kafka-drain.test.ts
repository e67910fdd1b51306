import { afterEach, describe, expect, it } from 'vitest';
import { events, runCli, startCli, unique, workdir } from '../support/cli.js';
import { testKafka, topicWithBacklog } from '../support/kafka-client.js';
import { drainPlaybook } from '../support/playbooks.js';

const drain = (timeout: string) => drainPlaybook({ samples: 3, interval: '250ms', timeout });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe('kafka.drain against a real backlog', () => {
  it('waits, reports falling lag with a rate, and completes when a real consumer catches up', async () => {
    const topic = unique('drain');
    const group = unique('g');
    await topicWithBacklog(topic, [120, 80, 40]);
    const cwd = await workdir({ 'drain.yaml': drain('60s') });
    const run = startCli(['run', 'drain.yaml', '-p', `topic=${topic}`, '-p', `group=${group}`, '--json'], { cwd });

    // Let it see the whole backlog first (its first lag report), then consume slowly, committing as it goes.
    await new Promise<void>((resolve) => {
      let out = '';
      const seen = (d: Buffer): void => {
        out += d.toString();
        if (out.includes('"step.progress"')) {
          run.stdout?.off('data', seen);
          resolve();
        }
      };
      run.stdout?.on('data', seen);
      void run.result.then(() => resolve());
    });
    const consumer = testKafka().consumer({ groupId: group, maxBytesPerPartition: 2000 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    cleanups.push(() => consumer.disconnect());
    await consumer.run({
      autoCommitInterval: 100,
      eachMessage: async () => {
        await new Promise((r) => setTimeout(r, 8));
      },
    });

    const res = await run.result;
    expect(res.code, res.stderr).toBe(0);
    const ev = events(res.stdout);
    const lags = ev.filter((e) => e.type === 'step.progress').map((e) => (e.progress as { metrics: { lag: number } }).metrics.lag);
    expect(lags[0]).toBe(240);
    expect(lags.some((l) => l > 0 && l < 240)).toBe(true);
    expect(Math.min(...lags)).toBeLessThan(lags[0] as number);
    const withRate = ev.filter((e) => e.type === 'step.progress' && (e.progress as { metrics: { ratePerSec?: number } }).metrics.ratePerSec);
    expect(withRate.length).toBeGreaterThan(0);
    expect(ev.find((e) => e.type === 'step.done')).toMatchObject({ step: 'drained', summary: expect.stringContaining('lag 0 on 3 partitions') });
  });

  it('with a short timeout and no consumer: exit 1, naming the partitions still lagging and by how much', async () => {
    const topic = unique('stuck');
    const group = unique('g');
    await topicWithBacklog(topic, [5, 3, 0]);
    const cwd = await workdir({ 'drain.yaml': drain('2s') });
    const res = await runCli(['run', 'drain.yaml', '-p', `topic=${topic}`, '-p', `group=${group}`], { cwd });
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('timed out after 2s: lag 8: partition 0 lag 5 (nothing committed), partition 1 lag 3 (nothing committed)');
    const status = JSON.parse((await runCli(['status', `drain-${topic}`, '--json'], { cwd })).stdout);
    expect(status).toMatchObject({ status: 'failed', steps: [{ id: 'drained', status: 'failed' }] });
  });
});
