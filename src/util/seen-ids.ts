/**
 * A set of seen ids that remembers where each was seen, in a fixed memory budget at any size.
 *
 * In memory: an open-addressing table of 64-bit hashes (two independent 32-bit FNV-1a hashes) with
 * the partition and offset of the first sighting packed in one more 64-bit word, 16 bytes a slot,
 * filled to 3/4 before it grows or spills. The slot of a hash grows with the hash (no mask), so the
 * table read in slot order is sorted but for the few entries a probe pushed past a neighbour: it
 * sorts in one cheap insertion pass when it spills.
 *
 * Past the budget the table spills: its entries, sorted by hash, become a run file in a directory
 * of its own (removed by close()), and the table starts empty. FANIN runs of equal size merge into
 * one, as a base-FANIN counter carries, so there are at most (FANIN - 1) per power of FANIN and each
 * entry is rewritten log_FANIN(spills) times; a merge streams fixed-size blocks, so memory does not
 * grow with the data on disk. A duplicate inside the table is found when it is added (add() returns
 * where it was first seen); one between the table and a run, or between two runs, is found when
 * they merge: it is deferred, never lost, and settle() compares every run with every other, so
 * none is left unchecked.
 *
 * Two different ids share a 64-bit hash with probability ~n²/2⁶⁵ (3·10⁻⁸ for a million, 3·10⁻⁴ for
 * 100 million), and a reported duplicate names both offsets, so it can be confirmed.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Where an id was seen. */
export interface Place {
  partition: number;
  offset: number;
}

/** A duplicate found when runs merged: `seen` came first in the log (same partition: the lower offset). */
export interface SeenDuplicate {
  seen: Place;
  again: Place;
}

/** How a SeenIds is sized. */
export interface SeenIdsOptions {
  /** Entries to size the table for at once (capped by `memory`): e.g. the events a step expects. */
  capacity?: number;
  /** Bytes the in-memory table may take; past it, entries spill to disk. Default: DEFAULT_SEEN_MEMORY. */
  memory?: number;
  /** Where the spill directory is made; default os.tmpdir(). */
  spillDir?: string;
}

/** The default memory budget of one table: a million ids and a million operations fit in two. */
export const DEFAULT_SEEN_MEMORY = 64 * 1024 * 1024;

/** Words per entry: the two hash halves (mixed: see key()), then the packed place. */
const WORDS = 4;
const BYTES = WORDS * 4;
/** Filled to this before growing or spilling: linear probing still takes few probes at 3/4. */
const LOAD = 0.75;
/** Slots past the last home slot, so that a probe rarely wraps round (a wrapped entry sorts dearly). */
const TAIL = 1024;
/** Entries per block read or written when runs merge. */
const BLOCK = 8192;
/** Runs of one size merged at once: fewer rewrites than pairs (2), few enough heads to scan for the least. */
const FANIN = 8;
/** Duplicates found in merges kept for settle(): the step confirms them in turn and fails on the first real one. */
const KEEP = 16;
const TWO32 = 4294967296;
/** The place packs as partition (20 bits) and offset (44 bits: 17·10¹² records a partition). */
const OFFSET_HIGH = 4096;
/** Partitions a place can name (2²⁰); a topic with more cannot be checked for duplicates. */
export const MAX_SEEN_PARTITIONS = 2 ** 20;

interface Run {
  file: string;
  count: number;
  level: number;
}

export class SeenIds {
  private table: Uint32Array;
  /** Home slots (the table has TAIL more). */
  private slots: number;
  private readonly maxSlots: number;
  private scale: number;
  private count = 0;
  private total = 0;
  private readonly runs: Run[] = [];
  private readonly spillDir: string;
  private dir: string | undefined;
  private files = 0;
  private spillCount = 0;
  /** spillCount when settle() last compared every run. */
  private settled = 0;
  /** Duplicates that merges found, oldest first (at most KEEP). */
  readonly duplicates: SeenDuplicate[] = [];

  constructor(options: number | SeenIdsOptions = {}) {
    const o = typeof options === 'number' ? { capacity: options } : options;
    const memory = o.memory ?? DEFAULT_SEEN_MEMORY;
    this.maxSlots = Math.max(64, Math.floor(memory / BYTES) - TAIL);
    this.slots = Math.min(this.maxSlots, Math.max(64, Math.ceil((o.capacity ?? 1024) / LOAD)));
    this.table = new Uint32Array(WORDS * (this.slots + TAIL));
    this.scale = this.slots / TWO32;
    this.spillDir = o.spillDir ?? os.tmpdir();
  }

  /** Ids recorded, in memory and on disk. */
  get size(): number {
    return this.total;
  }

  /** How many times the table spilled to disk. */
  get spills(): number {
    return this.spillCount;
  }

  /** Run files on disk now. */
  get spilled(): number {
    return this.runs.length;
  }

  /**
   * Records the id as seen at partition/offset. Returns undefined when it is new (or seen only in
   * a spilled run: then a later merge finds it, see duplicates), or where it was seen before.
   */
  add(id: string, partition: number, offset: number): Place | undefined {
    hashId(id, scratch, 0);
    return this.addHash(scratch[0] as number, scratch[1] as number, partition, offset);
  }

  /** add() with the id already hashed by hashId() (e.g. in a worker thread). */
  addHash(h1: number, h2: number, partition: number, offset: number): Place | undefined {
    if (this.count + 1 > this.slots * LOAD) this.makeRoom();
    const a1 = key(h1, h2);
    const t = this.table;
    const end = t.length;
    let i = WORDS * Math.floor(a1 * this.scale);
    for (;;) {
      const k1 = t[i] as number;
      const k2 = t[i + 1] as number;
      if (k1 === 0 && k2 === 0) break;
      if (k1 === a1 && k2 === h2) return unpack(t[i + 2] as number, t[i + 3] as number);
      i += WORDS;
      if (i === end) i = 0;
    }
    t[i] = a1;
    t[i + 1] = h2;
    t[i + 2] = partition * OFFSET_HIGH + (offset >= TWO32 ? Math.floor(offset / TWO32) : 0);
    t[i + 3] = offset >>> 0;
    this.count += 1;
    this.total += 1;
    return undefined;
  }

  /**
   * For each hash in `hashes` (h1, h2 pairs from hashId()), 1 when it was recorded, in memory or on
   * disk, else 0. Reads every run once, whatever the number of hashes asked.
   */
  async findAll(hashes: Uint32Array): Promise<Uint8Array> {
    const n = hashes.length / 2;
    const found = new Uint8Array(n);
    const keys = new Uint32Array(2 * n);
    const rest: number[] = [];
    for (let q = 0; q < n; q++) {
      keys[2 * q] = key(hashes[2 * q] as number, hashes[2 * q + 1] as number);
      keys[2 * q + 1] = hashes[2 * q + 1] as number;
      if (this.slotOf(keys[2 * q] as number, keys[2 * q + 1] as number) >= 0) found[q] = 1;
      else rest.push(q);
    }
    if (rest.length === 0 || this.runs.length === 0) return found;
    rest.sort((x, y) => compare(keys[2 * x] as number, keys[2 * x + 1] as number, keys[2 * y] as number, keys[2 * y + 1] as number));
    for (const run of this.runs) {
      const c = new RunCursor(run.file, run.count);
      try {
        for (const q of rest) {
          const q1 = keys[2 * q] as number;
          const q2 = keys[2 * q + 1] as number;
          while (c.live && compare(c.k1, c.k2, q1, q2) < 0) c.next();
          if (!c.live) break;
          if (c.k1 === q1 && c.k2 === q2) found[q] = 1;
        }
      } finally {
        c.close();
      }
    }
    return found;
  }

  /**
   * Finishes every pending comparison: spills the table and compares every run with every other
   * (one streaming pass), so that a duplicate anywhere is in `duplicates`. Returns them (empty:
   * none). Without a spill there is nothing pending: add() has compared everything.
   */
  async settle(): Promise<SeenDuplicate[]> {
    if (this.runs.length > 0 && this.count > 0) this.spill(false);
    // Compared, not rewritten: a verdict follows, and the runs stay as they are for lookups.
    if (this.runs.length > 1 && this.settled !== this.spillCount) this.merge(this.runs, false);
    this.settled = this.spillCount;
    return this.duplicates;
  }

  /** Removes the spill directory and what is in it. Safe to call twice. */
  close(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.runs.length = 0;
  }

  /** Where a key is in the table (index of its first word), or -1. */
  private slotOf(a1: number, a2: number): number {
    const t = this.table;
    const end = t.length;
    for (let i = WORDS * Math.floor(a1 * this.scale); ; ) {
      const k1 = t[i] as number;
      const k2 = t[i + 1] as number;
      if (k1 === 0 && k2 === 0) return -1;
      if (k1 === a1 && k2 === a2) return i;
      i += WORDS;
      if (i === end) i = 0;
    }
  }

  /** Grows the table while the budget allows, else spills it. */
  private makeRoom(): void {
    if (this.slots >= this.maxSlots) {
      this.spill(true);
      return;
    }
    const old = this.table;
    this.slots = Math.min(this.maxSlots, this.slots * 2);
    this.scale = this.slots / TWO32;
    this.table = new Uint32Array(WORDS * (this.slots + TAIL));
    const t = this.table;
    const end = t.length;
    for (let j = 0; j < old.length; j += WORDS) {
      const a1 = old[j] as number;
      const a2 = old[j + 1] as number;
      if (a1 === 0 && a2 === 0) continue;
      let i = WORDS * Math.floor(a1 * this.scale);
      while (t[i] !== 0 || t[i + 1] !== 0) {
        i += WORDS;
        if (i === end) i = 0;
      }
      t.set(old.subarray(j, j + WORDS), i);
    }
  }

  /** Writes the table's entries, sorted, to a new run and empties the table; `carry`: merge FANIN equal runs. */
  private spill(carry: boolean): void {
    const t = this.table;
    // Compact to the front in slot order (never overwriting an entry not yet moved), then sort.
    let n = 0;
    for (let j = 0; j < t.length; j += WORDS) {
      if (t[j] === 0 && t[j + 1] === 0) continue;
      const w = n * WORDS;
      t[w] = t[j] as number;
      t[w + 1] = t[j + 1] as number;
      t[w + 2] = t[j + 2] as number;
      t[w + 3] = t[j + 3] as number;
      n++;
    }
    sortNearlySorted(t, n);
    const file = this.nextFile();
    const fd = openSync(file, 'w');
    try {
      writeAll(fd, t, n * WORDS);
    } finally {
      closeSync(fd);
    }
    t.fill(0);
    this.count = 0;
    this.runs.push({ file, count: n, level: 0 });
    this.spillCount += 1;
    for (;;) {
      const last = this.runs.slice(-FANIN);
      if (!carry || last.length < FANIN || last.some((r) => r.level !== last[0]?.level)) break;
      this.merge(this.runs.splice(this.runs.length - FANIN, FANIN), true);
    }
  }

  /** Compares runs (oldest first): equal hashes are duplicates; `write`: merged into one, in their place at the end. */
  private merge(runs: Run[], write: boolean): void {
    const file = write ? this.nextFile() : undefined;
    const cursors = runs.map((r) => new RunCursor(r.file, r.count));
    const out = file ? new RunWriter(file) : undefined;
    try {
      for (;;) {
        // The smallest head; on a tie the oldest run's (cursors are oldest first): it was added first.
        let min: RunCursor | undefined;
        for (const c of cursors) if (c.live && (!min || compare(c.k1, c.k2, min.k1, min.k2) < 0)) min = c;
        if (!min) break;
        const k1 = min.k1;
        const k2 = min.k2;
        const w1 = min.w1;
        const w2 = min.w2;
        out?.put(min);
        min.next();
        for (const c of cursors) {
          while (c.live && c.k1 === k1 && c.k2 === k2) {
            const first = unpack(w1, w2);
            const again = unpack(c.w1, c.w2);
            const later = first.partition === again.partition && again.offset < first.offset;
            this.found(later ? { seen: again, again: first } : { seen: first, again });
            c.next();
          }
        }
      }
    } finally {
      for (const c of cursors) c.close();
      out?.close();
    }
    if (!file || !out) return;
    for (const r of runs) rmSync(r.file, { force: true });
    this.runs.push({ file, count: out.count, level: Math.max(...runs.map((r) => r.level)) + 1 });
  }

  /** Keeps a duplicate a merge found, once (settle() may compare the same pair again). */
  private found(d: SeenDuplicate): void {
    const same = (x: Place, y: Place): boolean => x.partition === y.partition && x.offset === y.offset;
    if (this.duplicates.length < KEEP && !this.duplicates.some((k) => same(k.seen, d.seen) && same(k.again, d.again))) this.duplicates.push(d);
  }

  private nextFile(): string {
    this.dir ??= mkdtempSync(path.join(this.spillDir, 'migrate-seen-'));
    return path.join(this.dir, `run-${this.files++}`);
  }
}

/** The first hash half mixed with the second: the table's order and slot, so ids alike spread out. */
function key(h1: number, h2: number): number {
  return (h1 ^ Math.imul(h2, 0x27d4eb2d)) >>> 0;
}

function compare(a1: number, a2: number, b1: number, b2: number): number {
  return a1 !== b1 ? a1 - b1 : a2 - b2;
}

function unpack(hi: number, lo: number): Place {
  return { partition: Math.floor(hi / OFFSET_HIGH), offset: (hi % OFFSET_HIGH) * TWO32 + lo };
}

/** Insertion sort of the first n entries by key: linear for a table read in slot order. */
function sortNearlySorted(t: Uint32Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const at = i * WORDS;
    const a1 = t[at] as number;
    const a2 = t[at + 1] as number;
    let j = at - WORDS;
    if (compare(t[j] as number, t[j + 1] as number, a1, a2) <= 0) continue;
    const w1 = t[at + 2] as number;
    const w2 = t[at + 3] as number;
    for (; j >= 0 && compare(t[j] as number, t[j + 1] as number, a1, a2) > 0; j -= WORDS) {
      t[j + WORDS] = t[j] as number;
      t[j + WORDS + 1] = t[j + 1] as number;
      t[j + WORDS + 2] = t[j + 2] as number;
      t[j + WORDS + 3] = t[j + 3] as number;
    }
    t[j + WORDS] = a1;
    t[j + WORDS + 1] = a2;
    t[j + WORDS + 2] = w1;
    t[j + WORDS + 3] = w2;
  }
}

function writeAll(fd: number, words: Uint32Array, length: number): void {
  const bytes = new Uint8Array(words.buffer, words.byteOffset, length * 4);
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** Reads a run front to back, a block at a time. */
class RunCursor {
  private readonly fd: number;
  private readonly buf = new Uint32Array(WORDS * BLOCK);
  private at = 0;
  private held = 0;
  private left: number;
  private position = 0;
  live = true;
  k1 = 0;
  k2 = 0;
  /** The packed place of the head. */
  w1 = 0;
  w2 = 0;

  constructor(file: string, count: number) {
    this.fd = openSync(file, 'r');
    this.left = count;
    this.next();
  }

  next(): void {
    if (this.at === this.held) {
      if (this.left === 0) {
        this.live = false;
        return;
      }
      const entries = Math.min(BLOCK, this.left);
      const bytes = new Uint8Array(this.buf.buffer, 0, entries * BYTES);
      for (let got = 0; got < bytes.length; ) {
        const n = readSync(this.fd, bytes, got, bytes.length - got, this.position + got);
        if (n === 0) throw new Error('a spilled run of seen ids is shorter than written');
        got += n;
      }
      this.position += bytes.length;
      this.left -= entries;
      this.held = entries * WORDS;
      this.at = 0;
    }
    const b = this.buf;
    this.k1 = b[this.at] as number;
    this.k2 = b[this.at + 1] as number;
    this.w1 = b[this.at + 2] as number;
    this.w2 = b[this.at + 3] as number;
    this.at += WORDS;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Writes a run a block at a time. */
class RunWriter {
  private readonly fd: number;
  private readonly buf = new Uint32Array(WORDS * BLOCK);
  private at = 0;
  count = 0;

  constructor(file: string) {
    this.fd = openSync(file, 'w');
  }

  put(c: RunCursor): void {
    const b = this.buf;
    b[this.at] = c.k1;
    b[this.at + 1] = c.k2;
    b[this.at + 2] = c.w1;
    b[this.at + 3] = c.w2;
    this.at += WORDS;
    this.count++;
    if (this.at === b.length) this.flush();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    writeAll(this.fd, this.buf, this.at);
    this.at = 0;
  }
}

const scratch = new Uint32Array(2);

/** The 64-bit hash SeenIds keeps of an id, as two unsigned 32-bit halves written to out[at], out[at + 1]. */
export function hashId(id: string, out: Uint32Array, at: number): void {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x9e3779b9;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  out[at] = h1 >>> 0;
  out[at + 1] = h1 === 0 && h2 === 0 ? 1 : h2 >>> 0; // 0,0 marks an empty slot
}
