// The Kafka run store against the real broker: topics, acknowledged writes, reads to the log end,
// and run locks as consumer-group membership between independent clients.
import os from 'node:os';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRunLog } from '../../src/adapters/kafka-connect.js';
import { RunLockedError } from '../../src/errors.js';
import { KafkaRunStore } from '../../src/state/kafka-store.js';
import type { RunState } from '../../src/state/run-state.js';
import type { RunLock } from '../../src/state/store.js';
import { unique } from '../support/cli.js';
import { kafkaBrokers } from '../support/kafka.js';
import { groupIds, testKafka } from '../support/kafka-client.js';
import { runStateFixture } from '../support/run-state.js';

const { ConfigResourceTypes } = kafkajs;

const topic = unique('it-runs');
const lockTopic = unique('it-locks');

/** A store of its own: its own Kafka clients, as another process would have. */
function newStore(waitLockMs = 0): KafkaRunStore {
  const connection = { brokers: kafkaBrokers(), clientId: 'migrate-it' };
  return new KafkaRunStore(() => connectRunLog(connection), { topic, lockTopic, sessionTimeoutMs: 6000, waitLockMs, where: kafkaBrokers().join(',') });
}

/** groupIds(), asking again while the group coordinator is still loading (a fresh broker). */
async function listedGroups(): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await groupIds();
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || attempt >= 50) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Every key the state topic holds records of `run` under, read through the store's own adapter. */
async function runKeys(run: string): Promise<string[]> {
  const log = await connectRunLog({ brokers: kafkaBrokers(), clientId: 'migrate-it' });
  try {
    const { start, end } = await log.offsets(topic);
    const keys = new Set<string>();
    await log.read(topic, start, end, (r) => {
      if (r.key?.split('@')[0] !== run) return;
      if (r.value === null) keys.delete(r.key);
      else keys.add(r.key);
    });
    return [...keys];
  } finally {
    await log.close();
  }
}

function state(name: string, updatedAt: string, status: RunState['status'] = 'running'): RunState {
  return runStateFixture({ name, status, createdAt: updatedAt, updatedAt });
}

const admin = testKafka().admin();
beforeAll(() => admin.connect());
afterAll(() => admin.disconnect());

describe('KafkaRunStore on the real broker', () => {
  it('creates a compacted single-partition state topic and a lock topic on first write', async () => {
    await newStore().write(state('first', '2026-01-01T00:00:00.000Z'));
    const meta = await admin.fetchTopicMetadata({ topics: [topic, lockTopic] });
    expect(meta.topics.map((t) => [t.name, t.partitions.length, t.partitions[0]?.replicas.length]).sort()).toEqual(
      [
        [topic, 1, 1], // replication factor min(3, brokers): one broker here
        [lockTopic, 1, 1],
      ].sort(),
    );
    const configs = await admin.describeConfigs({
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy', 'min.insync.replicas'] }],
      includeSynonyms: false,
    });
    const byName = Object.fromEntries((configs.resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]));
    expect(byName).toEqual({ 'cleanup.policy': 'compact', 'min.insync.replicas': '1' });
  });

  it('a write has reached the broker when it returns; other processes read the last value per run', async () => {
    const writer = newStore();
    const reader = newStore();
    const run = unique('r');
    for (const [i, status] of (['running', 'paused', 'completed'] as const).entries()) {
      const before = await admin.fetchTopicOffsets(topic);
      await writer.write(state(run, `2026-01-0${i + 2}T00:00:00.000Z`, status));
      const after = await admin.fetchTopicOffsets(topic);
      // Acknowledged: the log end moved by the time write() returned, and a fresh reader sees it.
      // (A write without the lock is a session of its own: its claim, then tombstones of the older sessions' keys.)
      expect(Number(after[0]?.high)).toBeGreaterThan(Number(before[0]?.high));
      expect((await reader.read(run))?.status).toBe(status);
      expect((await newStore().read(run))?.status).toBe(status);
    }
    const names = (await reader.list()).map((s) => s.name);
    expect(names.filter((n) => n === run)).toHaveLength(1);
    expect(names.indexOf(run)).toBeLessThan(names.indexOf('first')); // newest first
  });

  it('reads (whole log, then incrementally, tombstones too) without creating any consumer group', async () => {
    const run = unique('nogroup');
    const writer = newStore();
    await writer.write(state(run, '2026-01-10T00:00:00.000Z', 'running'));
    const groupsBefore = await listedGroups();
    // Groups are listed all along too: a throwaway group deleted after each read would escape a before/after diff.
    const seen = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) for (const g of await listedGroups()) seen.add(g);
    })();
    const reader = newStore();
    expect((await reader.read(run))?.status).toBe('running'); // from the log start
    await writer.write(state(run, '2026-01-11T00:00:00.000Z', 'paused'));
    expect((await reader.read(run))?.status).toBe('paused'); // only what was appended since
    expect((await reader.list()).some((s) => s.name === run)).toBe(true);
    const producer = testKafka().producer();
    await producer.connect();
    // Each holder's records have a key of their own (<run>@<token>.<nonce>): deleting the run tombstones them all.
    const keys = await runKeys(run);
    expect(keys.length).toBeGreaterThan(0);
    await producer.send({ topic, acks: -1, messages: keys.map((key) => ({ partition: 0, key, value: null })) });
    await producer.disconnect();
    expect(await reader.read(run)).toBeUndefined(); // a tombstone deletes the run
    watching = false;
    await watcher;
    for (const g of await listedGroups()) seen.add(g);
    expect([...seen].filter((g) => !groupsBefore.includes(g))).toEqual([]);
  });

  it('refuses a second holder, naming pid and host; hands the lock on at release', async () => {
    const run = unique('lock');
    const a = newStore();
    const b = newStore();
    const held = await a.lock(run);
    const err = await b.lock(run).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunLockedError);
    expect((err as RunLockedError).holder).toMatchObject({ pid: process.pid, host: os.hostname() });
    expect((err as Error).message).toContain(`locked by pid ${process.pid} on host ${os.hostname()}`);
    // The holder was not disturbed by the rebalance the refused member caused.
    await a.write(state(run, '2026-02-01T00:00:00.000Z'));
    await held.release();
    const next = await b.lock(run);
    await b.write(state(run, '2026-02-02T00:00:00.000Z'));
    await next.release();
  });

  it('two processes asking at once: exactly one holds the lock', async () => {
    const run = unique('race');
    const results = await Promise.allSettled([newStore().lock(run), newStore().lock(run), newStore().lock(run)]);
    const held = results.filter((r): r is PromiseFulfilledResult<RunLock> => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(held).toHaveLength(1);
    expect(refused.map((r) => r.reason as unknown)).toEqual([expect.any(RunLockedError), expect.any(RunLockedError)]);
    await held[0]?.value.release();
  });

  it('a holder keeps the lock through rebalances while others wait and give up; a waiter takes over at release', async () => {
    const run = unique('sticky');
    const holderStore = newStore();
    const held = await holderStore.lock(run);
    let waiterGotIt = false;
    const waiter = newStore(60_000)
      .lock(run)
      .then((l) => ((waiterGotIt = true), l));
    // More members come and go (each join and leave is a rebalance of the group).
    for (let i = 0; i < 2; i++) await expect(newStore().lock(run)).rejects.toBeInstanceOf(RunLockedError);
    await holderStore.write(state(run, '2026-03-01T00:00:00.000Z'));
    expect(waiterGotIt).toBe(false);
    const groups = await admin.describeGroups([holderStore.lockGroup(run)]);
    expect(groups.groups[0]?.members).toHaveLength(2); // the holder and the waiter
    const released = Date.now();
    await held.release();
    const next = await waiter;
    expect(Date.now() - released).toBeLessThan(5000); // at once, not after a session timeout
    await next.release();
  });
});
