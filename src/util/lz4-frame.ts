/**
 * Decompression of the LZ4 frame format (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md),
 * which Kafka's clients write for lz4 record batches. Our own because npm's pure-JS choice
 * (lz4js) has not been released since 2017 and allocates per block; this one writes every block
 * of the frame into one output buffer, which also serves linked blocks (a match may reach into
 * the blocks before). The xxHash32 checksums a frame may carry are not checked: the record
 * batch's CRC-32C already covers the compressed bytes.
 */

const MAGIC = 0x184d2204;
/** Skippable frames: magic 0x184D2A50 to 0x184D2A5F, then a 4-byte size. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE = 0x184d2a50;
const BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];

class Lz4Error extends Error {
  constructor(message: string) {
    super(`lz4: ${message}`);
  }
}

interface FrameHeader {
  /** First block's position. */
  at: number;
  blockChecksum: boolean;
  contentChecksum: boolean;
  blockMax: number;
  /** -1 when the frame does not say. */
  contentSize: number;
}

/**
 * The header of the next LZ4 frame from `at`, past any skippable frames; undefined at the end of
 * `src`. The one walk over frames, for both the size bound and the decompression.
 */
function nextFrame(src: Uint8Array, at: number): FrameHeader | undefined {
  while (at + 4 <= src.length) {
    const magic = u32(src, at);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE) {
      at += 8 + u32(src, at + 4);
      continue;
    }
    if (magic !== MAGIC) throw new Lz4Error(`not an LZ4 frame (magic 0x${magic.toString(16)})`);
    return header(src, at);
  }
  return undefined;
}

function header(src: Uint8Array, at: number): FrameHeader {
  if (at + 7 > src.length) throw new Lz4Error('truncated frame header');
  const flg = src[at + 4] as number;
  const bd = src[at + 5] as number;
  if (flg >> 6 !== 1) throw new Lz4Error(`frame version ${flg >> 6} is not 1`);
  const blockMax = BLOCK_MAX[(bd >> 4) & 7] as number;
  if (!blockMax) throw new Lz4Error(`invalid block maximum size code ${(bd >> 4) & 7}`);
  let next = at + 6;
  let contentSize = -1;
  if (flg & 0x08) {
    const view = new DataView(src.buffer, src.byteOffset + next, 8);
    contentSize = view.getUint32(0, true) + view.getUint32(4, true) * 4294967296;
    next += 8;
  }
  if (flg & 0x01) next += 4; // dictionary id: Kafka's clients use none
  next += 1; // header checksum
  return { at: next, blockChecksum: (flg & 0x10) !== 0, contentChecksum: (flg & 0x04) !== 0, blockMax, contentSize };
}

function u32(src: Uint8Array, at: number): number {
  return ((src[at] as number) | ((src[at + 1] as number) << 8) | ((src[at + 2] as number) << 16) | ((src[at + 3] as number) << 24)) >>> 0;
}

/** An upper bound of the decompressed size of all frames in `src`, from block headers only. */
function outputBound(src: Uint8Array): number {
  let total = 0;
  let at = 0;
  for (let h: FrameHeader | undefined; (h = nextFrame(src, at)); ) {
    at = h.at;
    let bound = 0;
    for (;;) {
      if (at + 4 > src.length) throw new Lz4Error('truncated frame');
      const word = u32(src, at);
      at += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      bound += word & 0x80000000 ? size : h.blockMax;
      at += size + (h.blockChecksum ? 4 : 0);
    }
    if (h.contentChecksum) at += 4;
    total += h.contentSize >= 0 ? h.contentSize : bound;
  }
  return total;
}

/** Decompresses one or more concatenated LZ4 frames. */
export function lz4FrameDecompress(src: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(outputBound(src));
  let op = 0;
  let at = 0;
  for (let h: FrameHeader | undefined; (h = nextFrame(src, at)); ) {
    at = h.at;
    const frameStart = op;
    for (;;) {
      const word = u32(src, at);
      at += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      if (at + size > src.length) throw new Lz4Error('truncated block');
      if (word & 0x80000000) {
        out.set(src.subarray(at, at + size), op);
        op += size;
      } else {
        op = decodeBlock(src, at, at + size, out, op, Math.min(out.length, op + h.blockMax), frameStart);
      }
      at += size + (h.blockChecksum ? 4 : 0);
    }
    if (h.contentChecksum) at += 4;
    if (h.contentSize >= 0 && op - frameStart !== h.contentSize) throw new Lz4Error(`frame holds ${op - frameStart} bytes, its header says ${h.contentSize}`);
  }
  return out.subarray(0, op);
}

/**
 * Decodes one LZ4 block (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md) of
 * `src[ip, end)` into `out` from `op`, writing no further than `limit`, with matches reaching no
 * further back than `low`; returns the new output position. Short copies go byte by byte: the
 * call into a native copy costs more than the few bytes most matches of JSON events have.
 */
function decodeBlock(src: Uint8Array, ip: number, end: number, out: Uint8Array, op: number, limit: number, low: number): number {
  for (;;) {
    if (ip >= end) throw new Lz4Error('truncated block');
    const token = src[ip++] as number;
    let literals = token >>> 4;
    if (literals === 15) {
      let b: number;
      do {
        if (ip >= end) throw new Lz4Error('truncated literal length');
        b = src[ip++] as number;
        literals += b;
      } while (b === 255);
    }
    if (ip + literals > end || op + literals > limit) throw new Lz4Error('literals run past the block');
    if (literals > 32) {
      out.set(src.subarray(ip, ip + literals), op);
      ip += literals;
      op += literals;
    } else {
      for (const stop = ip + literals; ip < stop; ) out[op++] = src[ip++] as number;
    }
    if (ip === end) return op; // the last sequence has literals only
    if (ip + 2 > end) throw new Lz4Error('truncated match offset');
    const offset = (src[ip] as number) | ((src[ip + 1] as number) << 8);
    ip += 2;
    if (offset === 0 || op - offset < low) throw new Lz4Error(`match offset ${offset} reaches before the data`);
    let length = token & 15;
    if (length === 15) {
      let b: number;
      do {
        if (ip >= end) throw new Lz4Error('truncated match length');
        b = src[ip++] as number;
        length += b;
      } while (b === 255);
    }
    length += 4;
    if (op + length > limit) throw new Lz4Error('match runs past the block');
    let from = op - offset;
    if (offset >= length && length > 32) {
      out.copyWithin(op, from, from + length);
      op += length;
    } else {
      // Overlapping (offset < length) repeats the last `offset` bytes: copy forwards, byte by byte.
      for (const stop = op + length; op < stop; ) out[op++] = out[from++] as number;
    }
  }
}
