import { describe, expect, it } from 'vitest';
import { SeenIds } from '../../src/util/seen-ids.js';

describe('SeenIds', () => {
  it('finds every repeat, with where it was first seen, across growth', () => {
    const ids = new SeenIds(4);
    const n = 200_000;
    let repeats = 0;
    for (let i = 0; i < n; i++) if (ids.add(`id-${i}`, i % 7, i)) repeats++;
    expect(repeats).toBe(0);
    expect(ids.size).toBe(n);
    for (const i of [0, 1, 4095, 123_456, n - 1]) expect(ids.add(`id-${i}`, 9, 99)).toEqual({ partition: i % 7, offset: i });
    expect(ids.add(crypto.randomUUID(), 0, 0)).toBeUndefined();
  });

  it('keeps a million uuids without a false duplicate', () => {
    const ids = new SeenIds();
    let dups = 0;
    for (let i = 0; i < 1_000_000; i++) if (ids.add(crypto.randomUUID(), 0, i)) dups++;
    expect(dups).toBe(0);
  });
});
