/**
 * A set of seen ids that remembers where each was seen, in bounded, compact memory: an
 * open-addressing table of 64-bit hashes (two independent 32-bit FNV-1a hashes) with the partition
 * and offset of the first sighting, 24 bytes a slot. A million event ids take ~48 MB instead of
 * ~150 MB of strings in a Map. Two different ids share a 64-bit hash with probability ~n²/2⁶⁵
 * (3·10⁻⁸ for a million), and a reported duplicate names both offsets, so it can be confirmed.
 */
export class SeenIds {
  /** Per slot the two hash halves side by side (one cache line per probe); 0,0 marks an empty slot. */
  private keys: Uint32Array;
  /** Per slot partition and offset of the first sighting, side by side. */
  private where: Float64Array;
  private slots: number;
  private count = 0;

  constructor(capacity = 1024) {
    this.slots = 1 << Math.ceil(Math.log2(Math.max(16, capacity * 2)));
    this.keys = new Uint32Array(2 * this.slots);
    this.where = new Float64Array(2 * this.slots);
  }

  get size(): number {
    return this.count;
  }

  /**
   * Records the id as seen at partition/offset. Returns undefined when it is new, or where it was
   * seen before.
   */
  add(id: string, partition: number, offset: number): { partition: number; offset: number } | undefined {
    hashId(id, scratch, 0);
    return this.addHash(scratch[0] as number, scratch[1] as number, partition, offset);
  }

  /** add() with the id already hashed by hashId() (e.g. in a worker thread). */
  addHash(h1: number, h2: number, partition: number, offset: number): { partition: number; offset: number } | undefined {
    if ((this.count + 1) * 2 > this.slots) this.grow();
    const keys = this.keys;
    const mask = this.slots - 1;
    let slot = (h1 ^ Math.imul(h2, 0x27d4eb2d)) & mask;
    for (;;) {
      const k1 = keys[2 * slot] as number;
      const k2 = keys[2 * slot + 1] as number;
      if (k1 === 0 && k2 === 0) break;
      if (k1 === h1 && k2 === h2) return { partition: this.where[2 * slot] as number, offset: this.where[2 * slot + 1] as number };
      slot = (slot + 1) & mask;
    }
    keys[2 * slot] = h1;
    keys[2 * slot + 1] = h2;
    this.where[2 * slot] = partition;
    this.where[2 * slot + 1] = offset;
    this.count += 1;
    return undefined;
  }

  /** Where an id already hashed by hashId() was first seen, without recording it; undefined when never seen. */
  findHash(h1: number, h2: number): { partition: number; offset: number } | undefined {
    const keys = this.keys;
    const mask = this.slots - 1;
    for (let slot = (h1 ^ Math.imul(h2, 0x27d4eb2d)) & mask; ; slot = (slot + 1) & mask) {
      const k1 = keys[2 * slot] as number;
      const k2 = keys[2 * slot + 1] as number;
      if (k1 === 0 && k2 === 0) return undefined;
      if (k1 === h1 && k2 === h2) return { partition: this.where[2 * slot] as number, offset: this.where[2 * slot + 1] as number };
    }
  }

  private grow(): void {
    const { keys, where, slots } = this;
    this.slots = slots * 2;
    this.keys = new Uint32Array(2 * this.slots);
    this.where = new Float64Array(2 * this.slots);
    const mask = this.slots - 1;
    for (let i = 0; i < slots; i++) {
      const h1 = keys[2 * i] as number;
      const h2 = keys[2 * i + 1] as number;
      if (h1 === 0 && h2 === 0) continue;
      let slot = (h1 ^ Math.imul(h2, 0x27d4eb2d)) & mask;
      while (this.keys[2 * slot] !== 0 || this.keys[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
      this.keys[2 * slot] = h1;
      this.keys[2 * slot + 1] = h2;
      this.where[2 * slot] = where[2 * i] as number;
      this.where[2 * slot + 1] = where[2 * i + 1] as number;
    }
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
