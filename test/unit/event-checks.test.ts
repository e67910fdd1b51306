// kafka.verify's per-event checks (src/verify/event-checks.ts) on record batches real producers
// wrote, on this thread and in CheckPool's worker threads: both must answer the same.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { KafkaRecord, RecordChunk } from '../../src/adapters/kafka.js';
import { compileSchema, type Validator } from '../../src/schema/validate.js';
import { hashId } from '../../src/util/seen-ids.js';
import type { CheckPool } from '../../src/verify/check-pool.js';
import { checkChunk, checkEvents, checkRecord, type CheckedRecords } from '../../src/verify/event-checks.js';
import { FIXTURE_EVENTS, fixtureEvent } from '../fixtures/kafka-batches/events.mjs';
import { exerciseCompletedSchema } from '../support/seed-schema.js';

const FIXTURES = ['kcat-gzip', 'kcat-lz4', 'java-snappy', 'java-zstd'];
const fixture = (name: string): Buffer => readFileSync(fileURLToPath(new URL(`../fixtures/kafka-batches/${name}.bin`, import.meta.url)));
const chunk = (records: Buffer, from = 0, partition = 0): RecordChunk => ({ partition, from, records, aborted: [] });
const validator = (): Promise<Validator> => compileSchema(exerciseCompletedSchema);

function record(offset: number, value: unknown, key: string | null = `ex-${offset}`): KafkaRecord {
  const v = value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  return { partition: 2, offset, key: key === null ? null : Buffer.from(key), value: v, timestamp: 0 };
}

/** hashId of each id, as checkEvents writes them. */
function hashes(ids: string[]): Uint32Array {
  const out = new Uint32Array(2 * ids.length);
  ids.forEach((id, i) => hashId(id, out, 2 * i));
  return out;
}

/** What a check found, without the functions, comparable across threads. */
function found(o: CheckedRecords) {
  return { partition: o.partition, passed: o.passed, hashes: [...o.hashes], offsets: [...o.offsets], failure: o.failure, samples: o.samples };
}

describe('checkChunk', () => {
  it.each(FIXTURES)('%s: every event passes, each event_id hashed at its offset, the first keys sampled', async (name) => {
    const o = checkChunk(chunk(fixture(name), 0, 1), await validator(), 3);
    const ids = Array.from({ length: FIXTURE_EVENTS }, (_, i) => fixtureEvent(i).event_id);
    expect(o.passed).toBe(FIXTURE_EVENTS);
    expect(o.failure).toBeUndefined();
    expect(o.partition).toBe(1);
    expect([...o.hashes]).toEqual([...hashes(ids)]);
    expect([...o.offsets]).toEqual(ids.map((_, i) => i));
    expect(o.samples).toEqual([0, 1, 2].map((i) => ({ key: `ex-${i}`, payload: fixtureEvent(i).payload, offset: i })));
    expect(o.eventId(117)).toBe(fixtureEvent(117).event_id);
    const fromMiddle = checkChunk(chunk(fixture(name), 200), await validator(), 0);
    expect(fromMiddle.passed).toBe(FIXTURE_EVENTS - 200);
    expect([...fromMiddle.offsets]).toEqual(ids.slice(200).map((_, i) => 200 + i));
    expect(fromMiddle.samples).toBeUndefined();
  });

  it('records that cannot be decoded: the failure is at the chunk start, with the decoder\'s reason', async () => {
    const records = Buffer.from(fixture('kcat-lz4'));
    records[61 + 5] = (records[61 + 5] as number) ^ 1; // one bit of the first batch's records
    const o = checkChunk(chunk(records, 0, 3), await validator(), 0);
    expect(o.passed).toBe(0);
    expect(o.failure).toEqual({ offset: 0, error: expect.stringMatching(/^record batch at partition 3 offset 0 is corrupt: its CRC-32C is/) });
  });
});

describe('checkEvents stops at the first failure', () => {
  const good = (i: number) => fixtureEvent(i);
  const run = async (values: unknown[]) => checkEvents((onRecord) => values.forEach((v, i) => onRecord(record(i, v))), 0, await validator(), 0);

  it('a tombstone', async () => {
    expect(await run([good(0), null, good(2)])).toMatchObject({ passed: 1, failure: { offset: 1, tombstone: true }, offsets: new Float64Array([0]) });
  });

  it('a value that is not JSON', async () => {
    expect(await run([good(0), good(1), '{"event_id":', good(3)])).toMatchObject({ passed: 2, failure: { offset: 2, notJson: true } });
  });

  it('an event the schema rejects: its first issue and how many more', async () => {
    const bad = { ...good(1), event_name: 7, payload: { ...good(1).payload, title: 42 } };
    const o = await run([good(0), bad, good(2)]);
    expect(o.passed).toBe(1);
    expect(o.failure?.offset).toBe(1);
    expect(o.failure?.issues).toHaveLength(1);
    expect(o.failure?.more).toBe(1);
  });

  it('an event without a string event_id passes and is not hashed', async () => {
    const noId = { ...good(1), event_id: undefined };
    const validate: Validator = () => [];
    const o = checkEvents((onRecord) => [good(0), noId, good(2)].forEach((v, i) => onRecord(record(i, v))), 0, validate, 0);
    expect(o).toMatchObject({ passed: 3, failure: undefined, offsets: new Float64Array([0, 2]) });
    expect([...o.hashes]).toEqual([...hashes([good(0).event_id, good(2).event_id])]);
  });

  it('samples distinct keys, the first payload of each', async () => {
    const values = [good(0), good(1), good(2), good(3)];
    const keys = ['a', 'a', null, 'b'];
    const o = checkEvents((onRecord) => values.forEach((v, i) => onRecord(record(i, v, keys[i]))), 0, () => [], 5);
    expect(o.samples).toEqual([
      { key: 'a', payload: good(0).payload, offset: 0 },
      { key: 'b', payload: good(3).payload, offset: 3 },
    ]);
  });
});

describe('checkRecord', () => {
  it('checks one decoded record and names its partition', async () => {
    const e = fixtureEvent(5);
    const o = checkRecord(record(41, e), await validator(), 1);
    expect(found(o)).toEqual({ partition: 2, passed: 1, hashes: [...hashes([e.event_id])], offsets: [41], failure: undefined, samples: [{ key: 'ex-41', payload: e.payload, offset: 41 }] });
    expect(o.eventId(41)).toBe(e.event_id);
  });
});

/** CheckPool as built: its worker thread runs dist/verify/check-worker.js, which vitest's src has no .js of. */
async function compiledPool(): Promise<typeof CheckPool> {
  return ((await import(fileURLToPath(new URL('../../dist/verify/check-pool.js', import.meta.url)))) as { CheckPool: typeof CheckPool }).CheckPool;
}

describe('CheckPool (the compiled build: its worker is dist/verify/check-worker.js)', () => {
  it('answers as checkChunk does on this thread, in the order the chunks were submitted', async () => {
    const pools = await compiledPool();
    const corrupt = Buffer.from(fixture('java-zstd'));
    corrupt[61 + 5] = (corrupt[61 + 5] as number) ^ 1;
    const chunks = [...FIXTURES.map((name, i) => chunk(fixture(name), i * 10, i)), chunk(corrupt, 0, 7)];
    const inWorkers: CheckedRecords[] = [];
    const pool = await pools.start(2, { schema: exerciseCompletedSchema, samples: 2 }, (o) => inWorkers.push(o));
    try {
      for (const c of chunks) await pool.submit(c);
      await expect.poll(() => inWorkers.length).toBe(chunks.length);
      expect(pool.failure).toBeUndefined();
    } finally {
      await pool.close();
    }
    const validate = await validator();
    const here = chunks.map((c) => checkChunk(c, validate, 2));
    expect(inWorkers.map(found)).toEqual(here.map(found));
    expect(inWorkers[1]?.eventId(33)).toBe(fixtureEvent(33).event_id);
    expect(inWorkers[4]?.failure?.error).toMatch(/^record batch at partition 7 offset 0 is corrupt/);
  });

  it('a schema that does not compile: start rejects', async () => {
    const pools = await compiledPool();
    await expect(pools.start(1, { schema: { type: 'no-such-type' }, samples: 0 }, () => undefined)).rejects.toThrow();
  });
});
