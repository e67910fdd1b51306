/**
 * A set of seen ids that remembers where each was seen, in bounded, compact memory: an
 * open-addressing table of 64-bit hashes (two independent 32-bit FNV-1a hashes) with the partition
 * and offset of the first sighting, 16 bytes a slot. A million event ids take ~32 MB instead of
 * ~150 MB of strings in a Map. Two different ids share a 64-bit hash with probability ~n²/2⁶⁵
 * (3·10⁻⁸ for a million), and a reported duplicate names both offsets, so it can be confirmed.
 */
export class SeenIds {
  private lo: Uint32Array;
  private hi: Uint32Array;
  private partition: Uint32Array;
  private offset: Float64Array;
  private used: Uint8Array;
  private count = 0;

  constructor(capacity = 1024) {
    const size = 1 << Math.ceil(Math.log2(Math.max(16, capacity * 2)));
    this.lo = new Uint32Array(size);
    this.hi = new Uint32Array(size);
    this.partition = new Uint32Array(size);
    this.offset = new Float64Array(size);
    this.used = new Uint8Array(size);
  }

  get size(): number {
    return this.count;
  }

  /**
   * Records the id as seen at partition/offset. Returns undefined when it is new, or where it was
   * seen before.
   */
  add(id: string, partition: number, offset: number): { partition: number; offset: number } | undefined {
    let h1 = 0x811c9dc5;
    let h2 = 0x01000193 ^ 0x9e3779b9;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    h1 >>>= 0;
    h2 >>>= 0;
    if ((this.count + 1) * 2 > this.used.length) this.grow();
    const mask = this.used.length - 1;
    let slot = (h1 ^ Math.imul(h2, 0x27d4eb2d)) & mask;
    while (this.used[slot]) {
      if (this.lo[slot] === h1 && this.hi[slot] === h2) return { partition: this.partition[slot] as number, offset: this.offset[slot] as number };
      slot = (slot + 1) & mask;
    }
    this.put(slot, h1, h2, partition, offset);
    this.count += 1;
    return undefined;
  }

  private put(slot: number, h1: number, h2: number, partition: number, offset: number): void {
    this.used[slot] = 1;
    this.lo[slot] = h1;
    this.hi[slot] = h2;
    this.partition[slot] = partition;
    this.offset[slot] = offset;
  }

  private grow(): void {
    const { lo, hi, partition, offset, used } = this;
    const size = used.length * 2;
    this.lo = new Uint32Array(size);
    this.hi = new Uint32Array(size);
    this.partition = new Uint32Array(size);
    this.offset = new Float64Array(size);
    this.used = new Uint8Array(size);
    const mask = size - 1;
    for (let i = 0; i < used.length; i++) {
      if (!used[i]) continue;
      const h1 = lo[i] as number;
      const h2 = hi[i] as number;
      let slot = (h1 ^ Math.imul(h2, 0x27d4eb2d)) & mask;
      while (this.used[slot]) slot = (slot + 1) & mask;
      this.put(slot, h1, h2, partition[i] as number, offset[i] as number);
    }
  }
}
