import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseBytes } from '../../src/util/bytes.js';
import { hashId, SeenIds } from '../../src/util/seen-ids.js';
import { missingOperations } from '../../src/verify/completeness.js';
import { operationText } from '../../src/verify/event-checks.js';

/** A budget of 64 KiB: 3,072 entries in memory, less the table's tail: every test below spills. */
const tiny = 64 * 1024;

describe('SeenIds', () => {
  let spillDir: string;
  beforeEach(() => {
    spillDir = mkdtempSync(path.join(os.tmpdir(), 'seen-ids-test-'));
  });
  afterEach(() => rmSync(spillDir, { recursive: true, force: true }));

  it('finds every repeat, with where it was first seen, across growth', () => {
    const ids = new SeenIds(4);
    const n = 200_000;
    let repeats = 0;
    for (let i = 0; i < n; i++) if (ids.add(`id-${i}`, i % 7, i)) repeats++;
    expect(repeats).toBe(0);
    expect(ids.size).toBe(n);
    expect(ids.spilled).toBe(0);
    for (const i of [0, 1, 4095, 123_456, n - 1]) expect(ids.add(`id-${i}`, 9, 99)).toEqual({ partition: i % 7, offset: i });
    expect(ids.add(crypto.randomUUID(), 0, 0)).toBeUndefined();
  });

  it('keeps large partitions and offsets past 2³² exactly', () => {
    const ids = new SeenIds();
    ids.add('a', 1_000_000, 2 ** 43 + 12345);
    expect(ids.add('a', 0, 0)).toEqual({ partition: 1_000_000, offset: 2 ** 43 + 12345 });
  });

  it('names a duplicate inside the table at once, even with runs on disk', async () => {
    const ids = new SeenIds({ memory: tiny, spillDir });
    for (let i = 0; i < 10_000; i++) ids.add(`id-${i}`, 0, i);
    expect(ids.spilled).toBeGreaterThan(0);
    ids.add('fresh', 2, 10);
    expect(ids.add('fresh', 1, 5)).toEqual({ partition: 2, offset: 10 });
    expect(await ids.settle()).toEqual([]);
    ids.close();
  });

  it('finds a duplicate between the table and a run when runs merge, the earlier sighting as seen', async () => {
    const ids = new SeenIds({ memory: tiny, spillDir });
    ids.add('twice', 0, 0);
    for (let i = 1; i < 2500; i++) ids.add(`id-${i}`, 0, i);
    // The first spill wrote 'twice' to a run: a second sighting lands in the empty table.
    for (let i = 2500; ids.spilled === 0; i++) ids.add(`id-${i}`, 0, i);
    expect(ids.add('twice', 0, 5000)).toBeUndefined();
    expect(ids.duplicates).toEqual([]);
    // Deferred, not lost: the merge of the first eight runs finds it.
    for (let i = 5001; ids.duplicates.length === 0 && i < 40_000; i++) ids.add(`id-${i}`, 0, i);
    expect(ids.spilled).toBe(1);
    expect(ids.duplicates).toEqual([{ seen: { partition: 0, offset: 0 }, again: { partition: 0, offset: 5000 } }]);
    ids.close();
  });

  it('finds a duplicate between two runs that never merged before settle(), and between table and run in settle()', async () => {
    const ids = new SeenIds({ memory: tiny, spillDir });
    let offset = 0;
    ids.add('first', 3, offset++);
    // Two runs, not merged with each other (eight are).
    while (ids.spilled < 2) ids.add(`id-${offset}`, 3, offset++);
    expect(ids.spilled).toBe(2);
    ids.add('first', 1, 77); // in the table: the earlier one is on disk
    ids.add('table', 1, 78);
    expect(ids.duplicates).toEqual([]);
    const found = await ids.settle();
    expect(found).toEqual([{ seen: { partition: 3, offset: 0 }, again: { partition: 1, offset: 77 } }]);
    expect(ids.spilled).toBe(3);
    // Settled again with nothing new: the same pair, once.
    expect(await ids.settle()).toHaveLength(1);
    ids.close();
  });

  it('takes the lower offset of one partition as seen, whichever run holds it', async () => {
    const ids = new SeenIds({ memory: tiny, spillDir });
    ids.add('x', 4, 900_000); // read first, later in the log (a re-read of a partition, say)
    for (let i = 0; ids.spilled === 0; i++) ids.add(`id-${i}`, 0, i);
    ids.add('x', 4, 12);
    expect(await ids.settle()).toEqual([{ seen: { partition: 4, offset: 12 }, again: { partition: 4, offset: 900_000 } }]);
    ids.close();
  });

  it('finds hashes in memory and in every run after spills (completeness)', async () => {
    const ids = new SeenIds({ memory: tiny, spillDir });
    for (let i = 0; i < 30_000; i += 2) ids.add(`op-${i}`, 0, i);
    expect(ids.spilled).toBeGreaterThan(1);
    const asked = [0, 1, 2, 3, 9998, 9999, 10_000, 29_998, 29_999, 777, 30_000];
    const hashes = new Uint32Array(2 * asked.length);
    asked.forEach((i, q) => hashId(`op-${i}`, hashes, 2 * q));
    expect([...(await ids.findAll(hashes))]).toEqual(asked.map((i) => (i % 2 === 0 && i < 30_000 ? 1 : 0)));
    await ids.settle();
    expect([...(await ids.findAll(hashes))]).toEqual(asked.map((i) => (i % 2 === 0 && i < 30_000 ? 1 : 0)));
    ids.close();
  });

  it('tells completeness which operations no event carried, from memory and runs', async () => {
    const ops = new SeenIds({ memory: tiny, spillDir });
    const h = new Uint32Array(2);
    for (let i = 0; i < 20_000; i++) {
      if (i === 7 || i === 15_000) continue;
      hashId(operationText([`ex-${i}`, i]), h, 0);
      ops.addHash(h[0] as number, h[1] as number, 0, i);
    }
    expect(ops.spilled).toBeGreaterThan(0);
    const listed = [0, 7, 19_999, 15_000, 3].map((i) => ({ values: [`ex-${i}`, i] }));
    expect(await missingOperations(listed, (hashes) => ops.findAll(hashes))).toEqual([{ values: ['ex-7', 7] }, { values: ['ex-15000', 15_000] }]);
    ops.close();
  });

  it('keeps two million uuids through many spills and merges without a false duplicate', async () => {
    const ids = new SeenIds({ memory: 4 * 1024 * 1024, spillDir });
    let dups = 0;
    for (let i = 0; i < 2_000_000; i++) if (ids.add(crypto.randomUUID(), i % 3, i)) dups++;
    expect(ids.spilled).toBeGreaterThan(1);
    expect(dups).toBe(0);
    expect(await ids.settle()).toEqual([]);
    expect(ids.size).toBe(2_000_000);
    ids.close();
  });

  it('removes its spill directory on close', () => {
    const ids = new SeenIds({ memory: tiny, spillDir });
    for (let i = 0; i < 10_000; i++) ids.add(`id-${i}`, 0, i);
    expect(readdirSync(spillDir)).toHaveLength(1);
    const dir = path.join(spillDir, readdirSync(spillDir)[0] as string);
    expect(readdirSync(dir).length).toBe(ids.spilled);
    ids.close();
    expect(existsSync(dir)).toBe(false);
    ids.close();
  });

  it('allocates no more than its budget when sized for many entries', () => {
    const before = process.memoryUsage().arrayBuffers;
    const ids = new SeenIds({ capacity: 100_000_000, memory: tiny, spillDir });
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThanOrEqual(tiny);
    ids.close();
  });
});

describe('parseBytes', () => {
  it('reads sizes as people write them', () => {
    expect(parseBytes('64MiB')).toBe(64 * 1024 * 1024);
    expect(parseBytes('512 MB')).toBe(512_000_000);
    expect(parseBytes('1gib')).toBe(1024 ** 3);
    expect(parseBytes('65536')).toBe(65536);
    expect(parseBytes('lots')).toBeUndefined();
    expect(parseBytes('64 MiBs')).toBeUndefined();
  });
});
