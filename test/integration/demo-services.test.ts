// The demo services against the real broker: demo/source.mjs (records over HTTP, events behind a
// flag, fault injection) and demo/consumer.mjs (consumer group, sync/async mode, retirement).
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compileSchema, type Validator } from '../../src/schema/validate.js';
import { eventually, unique } from '../support/cli.js';
import { startConsumer, startSource, writeFlags, type DemoService } from '../support/demo-services.js';
import { kafkaBrokers } from '../support/kafka.js';
import { exerciseCompletedSchemaV1, exerciseCompletedSchema as seedSchema } from '../support/seed-schema.js';

const { Kafka, logLevel } = kafkajs;
type Admin = ReturnType<InstanceType<typeof Kafka>['admin']>;


interface Exercise {
  exercise_id: string;
  title: string;
  author_id: string;
  candidate_id: string;
  completed_at: string;
}
interface Envelope {
  event_id: string;
  event_version: number;
  event_name: string;
  produced_at: string;
  payload: Exercise;
}
interface Received {
  key: string | undefined;
  raw: string;
  event: Envelope;
}
interface Health {
  status: string;
  producing?: boolean;
  produced?: number;
  mode?: 'sync' | 'async' | 'retired';
  consumed?: number;
  syncCalls?: number;
  syncFailures?: number;
}

const kafka = () => new Kafka({ clientId: 'demo-services-test', brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let admin: Admin;
let validate: Validator;
beforeAll(async () => {
  admin = kafka().admin();
  await admin.connect();
  validate = await compileSchema(seedSchema);
});
afterAll(async () => {
  await admin?.disconnect();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/** A fresh topic (3 partitions) and a flag file, both unique to the test. */
async function world(prefix: string): Promise<{ topic: string; flags: string }> {
  const topic = `datarep.${unique(prefix)}`;
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'migrate-demo-svc-'));
  return { topic, flags: path.join(dir, 'flags.json') };
}

function track(service: DemoService): DemoService {
  cleanups.push(() => service.stop());
  return service;
}

async function get<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}
async function post<T = unknown>(url: string, body: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}
const health = async (s: DemoService) => (await get<Health>(`${s.url}/health`)).body;

/** Sum of the log-end offsets of the topic's partitions. */
async function logEnd(topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
}

/** Reads the topic from the beginning in a group of its own until `count` messages have arrived. */
async function readEvents(topic: string, count: number): Promise<Received[]> {
  const consumer = kafka().consumer({ groupId: unique('reader'), maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    const got: Received[] = [];
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const raw = message.value?.toString('utf8') ?? '';
        got.push({ key: message.key?.toString('utf8'), raw, event: JSON.parse(raw) as Envelope });
      },
    });
    await eventually(async () => got.length >= count, 15_000);
    await sleep(200); // anything beyond `count` would show up now
    return got;
  } finally {
    await consumer.disconnect();
  }
}

/** The record the source's synchronous endpoint serves, fetched once per id. */
function recordsOf(source: DemoService): (id: string) => Promise<Exercise> {
  const cache = new Map<string, Promise<Exercise>>();
  return (id) => {
    let p = cache.get(id);
    if (!p) {
      p = get<Exercise>(`${source.url}/api/v0/exercises/${id}`).then((r) => {
        expect(r.status, id).toBe(200);
        return r.body;
      });
      cache.set(id, p);
    }
    return p;
  };
}

/** Committed offsets of the group vs log-end, per partition. */
async function groupPosition(group: string, topic: string): Promise<{ partition: number; committed: number; end: number }[]> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: group, topics: [topic] })]);
  const byPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return ends.map((e) => ({ partition: e.partition, committed: byPartition.get(e.partition) ?? -1, end: Number(e.high) }));
}
const caughtUp = async (group: string, topic: string) => (await groupPosition(group, topic)).every((p) => p.committed === p.end);

async function members(group: string): Promise<{ state: string; count: number }> {
  const { groups } = await admin.describeGroups([group]);
  const g = groups.find((x) => x.groupId === group);
  return { state: g?.state ?? 'Dead', count: g?.members.length ?? 0 };
}

describe('demo/source.mjs', () => {
  it('serves deterministic records for ex-0..ex-99 and JSON 404s for anything else', async () => {
    const { topic, flags } = await world('src-http');
    const [a, b] = await Promise.all([
      startSource({ brokers: kafkaBrokers(), topic, flags, producerFlag: 'p', kind: 'func' }).then(track),
      startSource({ brokers: kafkaBrokers(), topic, flags, producerFlag: 'p', kind: 'form' }).then(track),
    ]);
    expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (const id of ['ex-0', 'ex-1', 'ex-42', 'ex-99']) {
      const [ra, rb] = await Promise.all([get<Exercise>(`${a.url}/api/v0/exercises/${id}`), get<Exercise>(`${b.url}/api/v0/exercises/${id}`)]);
      expect(ra.status).toBe(200);
      expect(ra.body).toEqual(rb.body); // another process computes the same record
      expect(Object.keys(ra.body).sort()).toEqual(['author_id', 'candidate_id', 'completed_at', 'exercise_id', 'title']);
      expect(Object.values(ra.body).every((v) => typeof v === 'string' && v.length > 0)).toBe(true);
      expect(ra.body.exercise_id).toBe(id);
      expect(Number.isNaN(Date.parse(ra.body.completed_at))).toBe(false);
    }
    expect((await get<Exercise>(`${a.url}/api/v0/exercises/ex-3`)).body).not.toEqual((await get<Exercise>(`${a.url}/api/v0/exercises/ex-4`)).body);
    for (const id of ['ex-100', 'ex-07', 'ex--1', 'exercise-1', 'ex-']) {
      const r = await get<{ error: string }>(`${a.url}/api/v0/exercises/${id}`);
      expect(r.status, id).toBe(404);
      expect(r.body.error).toBe('not_found');
    }
    // The collection: every record, as the single-record endpoint serves it.
    const all = await get<{ count: number; exercises: Exercise[] }>(`${a.url}/api/v0/exercises`);
    expect(all.status).toBe(200);
    expect(all.body.count).toBe(100);
    expect(all.body.exercises.map((e) => e.exercise_id)).toEqual(Array.from({ length: 100 }, (_, n) => `ex-${n}`));
    expect(all.body.exercises[42]).toEqual((await get(`${a.url}/api/v0/exercises/ex-42`)).body);
    expect((await get(`${a.url}/nope`)).status).toBe(404);
    expect(await health(a)).toEqual({ status: 'ok', producing: false, produced: 0 });
  });

  it('publishes nothing while the flag is off; valid events equal to the endpoint while it is on; stops when it goes off', async () => {
    const { topic, flags } = await world('src-flag');
    await writeFlags(flags, { 'exercises-producer': false, other: true });
    const source = track(await startSource({ brokers: kafkaBrokers(), topic, flags, producerFlag: 'exercises-producer', rate: 50 }));

    await sleep(800);
    expect(await logEnd(topic)).toBe(0);
    expect(await health(source)).toMatchObject({ producing: false, produced: 0 });

    await writeFlags(flags, { 'exercises-producer': true });
    const onAt = Date.now();
    await eventually(async () => (await logEnd(topic)) >= 25, 10_000);
    expect(await health(source)).toMatchObject({ producing: true });

    await writeFlags(flags, { 'exercises-producer': false });
    await eventually(async () => (await health(source)).producing === false, 5_000);
    const onForMs = Date.now() - onAt;
    await sleep(300); // a send already in flight lands
    const end = await logEnd(topic);
    await sleep(700);
    expect(await logEnd(topic)).toBe(end); // really stopped
    expect((await health(source)).produced).toBe(end);
    // --rate 50 for onForMs: about 50/s (a 2-core machine running a broker is allowed some slack).
    expect(end).toBeGreaterThan((onForMs / 1000) * 50 * 0.4);
    expect(end).toBeLessThan((onForMs / 1000) * 50 * 1.5 + 5);

    const received = await readEvents(topic, end);
    expect(received).toHaveLength(end);
    const record = recordsOf(source);
    for (const { key, event } of received) {
      expect(validate(event)).toEqual([]);
      expect(event).toMatchObject({ event_version: 0, event_name: 'ExerciseCompleted' });
      expect(event.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(Date.parse(event.produced_at)).toBeGreaterThanOrEqual(onAt - 1000);
      expect(key).toBe(event.payload.exercise_id);
      expect(event.payload).toEqual(await record(event.payload.exercise_id));
    }
    expect(new Set(received.map((r) => r.event.event_id)).size).toBe(end);
    expect(new Set(received.map((r) => r.key)).size).toBeGreaterThan(5); // random ids, not one
  });

  it('injects faults: duplicate, invalid, mismatch; /admin/produce publishes regardless of the flag', async () => {
    const { topic, flags } = await world('src-fault');
    const source = track(await startSource({ brokers: kafkaBrokers(), topic, flags, producerFlag: 'p', kind: 'form' }));
    const fault = (type: string) => post<{ accepted?: string }>(`${source.url}/admin/fault`, { type });
    const produce = (count: number) => post<{ produced: number }>(`${source.url}/admin/produce`, { count });

    expect((await fault('bogus')).status).toBe(400);
    // No event yet: the duplicate applies to the next one, which goes out twice.
    expect(await fault('duplicate')).toEqual({ status: 202, body: { accepted: 'duplicate' } });
    expect(await produce(1)).toEqual({ status: 200, body: { produced: 2 } });
    expect((await produce(1)).body).toEqual({ produced: 1 });
    // Now there is a previous event: it is sent again.
    expect((await fault('duplicate')).status).toBe(202);
    await eventually(async () => (await health(source)).produced === 4, 5_000);
    expect((await fault('invalid')).status).toBe(202);
    expect((await produce(1)).body).toEqual({ produced: 1 });
    expect((await fault('mismatch')).status).toBe(202);
    expect((await produce(1)).body).toEqual({ produced: 1 });
    expect((await produce(2)).body).toEqual({ produced: 2 }); // faults are one-shot
    expect(await health(source)).toEqual({ status: 'ok', producing: false, produced: 8 });
    expect(await logEnd(topic)).toBe(8);

    const received = await readEvents(topic, 8);
    expect(received).toHaveLength(8);
    const record = recordsOf(source);
    const byId = new Map<string, Received[]>();
    for (const r of received) byId.set(r.event.event_id, [...(byId.get(r.event.event_id) ?? []), r]);
    const copies = [...byId.values()].map((rs) => rs.length).sort();
    expect(copies).toEqual([1, 1, 1, 1, 2, 2]);
    for (const rs of byId.values()) expect(new Set(rs.map((r) => r.raw)).size).toBe(1); // a duplicate is the same event, byte for byte

    const invalid = received.filter((r) => validate(r.event).length > 0);
    expect(invalid).toHaveLength(1);
    expect(validate(invalid[0]!.event).map((i) => i.path)).toEqual(['/payload/title']);
    expect(typeof invalid[0]!.event.payload.title).toBe('number');

    const valid = received.filter((r) => validate(r.event).length === 0);
    const mismatched: Received[] = [];
    for (const r of valid) if (JSON.stringify(r.event.payload) !== JSON.stringify(await record(r.event.payload.exercise_id))) mismatched.push(r);
    expect(mismatched).toHaveLength(1);
    const expected = await record(mismatched[0]!.event.payload.exercise_id);
    const { title, ...rest } = mismatched[0]!.event.payload;
    expect(typeof title).toBe('string');
    expect(title).not.toBe(expected.title);
    expect({ ...rest, title: expected.title }).toEqual(expected);
  });
});

describe('demo/source.mjs: versions and operations', () => {
  it('publishes v0, v1 (to --v1-topic) or both; lists its operations at GET /operations behind the token; double and lost faults', async () => {
    const { topic, flags } = await world('src-ops');
    const v1Topic = `${topic}.v1`;
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: v1Topic, numPartitions: 1, replicationFactor: 1 }] });
    const source = track(await startSource({ brokers: kafkaBrokers(), topic, flags, producerFlag: 'p', versions: '0,1', v1Topic, completions: true, operationsToken: 'tok' }));
    const produce = (count: number) => post<{ produced: number }>(`${source.url}/admin/produce`, { count });
    const from = new Date().toISOString();

    expect((await produce(2)).body).toEqual({ produced: 4 }); // each operation as v0 and as v1
    expect((await post(`${source.url}/admin/fault`, { type: 'double' })).status).toBe(202);
    expect((await produce(1)).body).toEqual({ produced: 4 }); // twice, in each version
    expect((await post(`${source.url}/admin/fault`, { type: 'lost' })).status).toBe(202);
    expect((await produce(1)).body).toEqual({ produced: 0 });
    expect(await post(`${source.url}/admin/versions`, { versions: [1] })).toEqual({ status: 200, body: { versions: [1] } });
    expect((await post(`${source.url}/admin/versions`, { versions: [2] })).status).toBe(400);
    expect((await produce(1)).body).toEqual({ produced: 1 });
    const to = new Date(Date.now() + 1000).toISOString();

    const v0 = await readEvents(topic, 4);
    const v1 = await readEvents(v1Topic, 5);
    expect(v0.map((r) => r.event.event_version)).toEqual([0, 0, 0, 0]);
    expect(v1.map((r) => r.event.event_version)).toEqual([1, 1, 1, 1, 1]);
    const v1Validate = await compileSchema(exerciseCompletedSchemaV1);
    for (const r of v0) expect(validate(r.event)).toEqual([]);
    for (const r of v1) expect(v1Validate(r.event)).toEqual([]);
    const keyOf = (r: Received) => JSON.stringify([r.event.payload.exercise_id, r.event.payload.candidate_id]);
    // Each operation a candidate of its own; the doubled one twice per version under new event_ids.
    expect(new Set(v0.map(keyOf)).size).toBe(3);
    expect(new Set([...v0, ...v1].map((r) => r.event.event_id)).size).toBe(9);

    const url = `${source.url}/operations?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
    expect((await fetch(url)).status).toBe(401);
    const listed = await fetch(url, { headers: { authorization: 'Bearer tok' } }).then((r) => r.json() as Promise<{ operations: { key: string[]; at: string }[] }>);
    expect(listed.operations).toHaveLength(5);
    const published = new Set(v1.map(keyOf));
    const lost = listed.operations.filter((o) => !published.has(JSON.stringify(o.key)));
    expect(lost).toHaveLength(1);
    expect(source.logs()).toContain(`fault lost: operation ${JSON.stringify(lost[0]?.key)}`);
    for (const o of listed.operations) expect(Date.parse(o.at)).toBeGreaterThanOrEqual(Date.parse(from));
    expect((await fetch(`${source.url}/operations?from=x&to=y`, { headers: { authorization: 'Bearer tok' } })).status).toBe(400);
  });

  it('--v0-flag, --v1-flag: each version is published while its flag is ON; no version, no operation', async () => {
    const { topic, flags } = await world('src-vflags');
    await writeFlags(flags, { v0: true, v1: false });
    const source = track(await startSource({ brokers: kafkaBrokers(), topic, flags, producerFlag: 'p', v0Flag: 'v0', v1Flag: 'v1', completions: true }));
    const versions = async () => (await get<{ versions: number[] }>(`${source.url}/admin/versions`)).body.versions;
    const produce = async (count: number) => (await post<{ produced: number }>(`${source.url}/admin/produce`, { count })).body.produced;
    await eventually(async () => JSON.stringify(await versions()) === '[0]', 10_000);
    expect(await produce(1)).toBe(1);
    await writeFlags(flags, { v0: true, v1: true }); // the dual publish
    await eventually(async () => JSON.stringify(await versions()) === '[0,1]', 10_000);
    expect(await produce(1)).toBe(2);
    await writeFlags(flags, { v0: false, v1: true });
    await eventually(async () => JSON.stringify(await versions()) === '[1]', 10_000);
    expect(await produce(1)).toBe(1);
    await writeFlags(flags, { v0: false, v1: false });
    await eventually(async () => (await versions()).length === 0, 10_000);
    expect(await produce(3)).toBe(0);
    // Three partitions: read in no particular order across them.
    expect((await readEvents(topic, 4)).map((r) => r.event.event_version).sort()).toEqual([0, 0, 1, 1]);
    const all = await fetch(`${source.url}/operations?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z`).then((r) => r.json() as Promise<{ operations: unknown[] }>);
    expect(all.operations).toHaveLength(3);
  });
});

describe('demo/consumer.mjs', () => {
  it('joins its group, consumes and commits a backlog, and calls the source only in sync mode', async () => {
    const { topic, flags } = await world('con-mode');
    const group = unique('exercises-consumers');
    const source = track(await startSource({ brokers: kafkaBrokers(), topic, flags, producerFlag: 'exercises-producer' }));
    expect((await post(`${source.url}/admin/produce`, { count: 60 })).body).toEqual({ produced: 60 });

    const consumer = track(await startConsumer({ brokers: kafkaBrokers(), topic, group, flags, flag: 'exercises-async', source: source.url }));
    expect(await members(group)).toEqual({ state: 'Stable', count: 1 });
    await eventually(async () => (await health(consumer)).consumed === 60, 10_000);
    await eventually(() => caughtUp(group, topic), 5_000);

    // Flag absent: sync mode, 5 calls a second to the source, all answered.
    await eventually(async () => ((await health(consumer)).syncCalls ?? 0) >= 4, 5_000);
    expect(await health(consumer)).toMatchObject({ status: 'ok', mode: 'sync', syncFailures: 0 });

    await writeFlags(flags, { 'exercises-async': true });
    await eventually(async () => (await health(consumer)).mode === 'async', 5_000);
    const calls = (await health(consumer)).syncCalls;
    await sleep(800);
    expect(await health(consumer)).toMatchObject({ mode: 'async', syncCalls: calls, syncFailures: 0 });

    // New events keep flowing to it in async mode.
    await post(`${source.url}/admin/produce`, { count: 5 });
    await eventually(async () => (await health(consumer)).consumed === 65, 5_000);
    await eventually(() => caughtUp(group, topic), 5_000);

    await writeFlags(flags, { 'exercises-async': false });
    await eventually(async () => (await health(consumer)).mode === 'sync', 5_000);
    await eventually(async () => ((await health(consumer)).syncCalls ?? 0) >= (calls ?? 0) + 3, 5_000);

    // The source goes away: the sync calls fail and are counted as failures.
    await source.stop();
    await eventually(async () => ((await health(consumer)).syncFailures ?? 0) >= 2, 5_000);

    await consumer.stop();
    expect((await consumer.exited).code).toBe(0);
    await eventually(async () => (await members(group)).count === 0, 5_000);
  });

  it('--retire-when-drained: leaves the group once both flags are off and the topic is exhausted', async () => {
    const { topic, flags } = await world('con-retire');
    const group = unique('exercises-consumers');
    await writeFlags(flags, { 'exercises-async': true, 'exercises-producer': true });
    const source = track(await startSource({ brokers: kafkaBrokers(), topic, flags, producerFlag: 'exercises-producer', rate: 40 }));
    const consumer = track(
      await startConsumer({
        brokers: kafkaBrokers(),
        topic,
        group,
        flags,
        flag: 'exercises-async',
        source: source.url,
        retireWhenDrained: true,
        producerFlag: 'exercises-producer',
      }),
    );
    await eventually(async () => ((await health(consumer)).consumed ?? 0) >= 10, 10_000);
    expect(await health(consumer)).toMatchObject({ mode: 'async', syncCalls: 0 });

    // Switched back to sync, but the producer is still on: the consumer stays in its group.
    await writeFlags(flags, { 'exercises-async': false, 'exercises-producer': true });
    await eventually(async () => (await health(consumer)).mode === 'sync', 5_000);
    await sleep(2500);
    expect((await health(consumer)).mode).toBe('sync');
    expect((await members(group)).count).toBe(1);

    // Producer off: once the topic is exhausted (lag 0 for 2 s), it leaves.
    await writeFlags(flags, { 'exercises-async': false, 'exercises-producer': false });
    await eventually(async () => (await health(source)).producing === false, 5_000);
    await eventually(async () => (await health(consumer)).mode === 'retired', 10_000, 100);
    expect(await members(group)).toEqual({ state: 'Empty', count: 0 });
    const end = await logEnd(topic);
    expect(end).toBe((await health(source)).produced);
    expect(await caughtUp(group, topic)).toBe(true);
    expect(await health(consumer)).toMatchObject({ status: 'ok', mode: 'retired', consumed: end });
  });
});
