/**
 * Decompression of record batch payloads for every codec Kafka has (the attributes' low 3 bits:
 * 1 gzip, 2 snappy, 3 lz4, 4 zstd), once per batch. Pure JavaScript where Node has no codec of its
 * own, so `npm install` never needs a native build: snappyjs for snappy, fzstd for zstd (or
 * node:zlib's zstd when the running Node has it: Node 22.15+ / 23.8+), our own LZ4 frame decoder.
 */
import * as zlib from 'node:zlib';
import { decompress as fzstdDecompress } from 'fzstd';
import snappy from 'snappyjs';
import { lz4FrameDecompress } from '../util/lz4-frame.js';

/** The codec names of the attribute values 0..4, as Kafka's configs spell them. */
export const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

/** What snappy-java's SnappyOutputStream (Kafka's Java client) writes first: "\x82SNAPPY\x00", then two int32 versions. */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = 16;

/**
 * Snappy as Kafka's clients write it: the Java client in snappy-java's (xerial) framing, a header
 * then int32-length-prefixed raw blocks; librdkafka as one raw snappy block.
 */
export function snappyDecompress(data: Buffer): Buffer {
  if (data.length < XERIAL_HEADER || !data.subarray(0, 8).equals(XERIAL_MAGIC)) return snappy.uncompress(data);
  const blocks: Buffer[] = [];
  let at = XERIAL_HEADER;
  while (at + 4 <= data.length) {
    const size = data.readInt32BE(at);
    at += 4;
    if (size < 0 || at + size > data.length) throw new Error('snappy: truncated xerial block');
    blocks.push(snappy.uncompress(data.subarray(at, at + size)));
    at += size;
  }
  if (at !== data.length) throw new Error('snappy: trailing bytes after the last xerial block');
  return blocks.length === 1 ? (blocks[0] as Buffer) : Buffer.concat(blocks);
}

/** node:zlib's zstd decompression, on the Node versions that have it (not in @types/node 20). */
const nodeZstd = (zlib as unknown as { zstdDecompressSync?: (b: Uint8Array) => Buffer }).zstdDecompressSync;

/** zstd through fzstd (pure JS): every Node version. */
export function fzstdDecompressBuffer(data: Uint8Array): Buffer {
  const out = fzstdDecompress(data);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** The zstd decoders this Node has, fastest first: node:zlib's when present, fzstd always. */
export const zstdDecoders: { name: string; decompress: (data: Uint8Array) => Buffer }[] = [
  ...(nodeZstd ? [{ name: 'node:zlib', decompress: (data: Uint8Array) => nodeZstd(data) }] : []),
  { name: 'fzstd', decompress: fzstdDecompressBuffer },
];

const zstdDecompress = (zstdDecoders[0] as (typeof zstdDecoders)[number]).decompress;

/**
 * The decompressed records of a batch whose attributes say `codec` (1..4). Throws, naming the
 * codec, when the data does not decompress or the codec is unknown.
 */
export function decompressBatch(codec: number, data: Buffer): Buffer {
  try {
    switch (codec) {
      case 1:
        return zlib.gunzipSync(data);
      case 2:
        return snappyDecompress(data);
      case 3:
        return lz4FrameDecompress(data);
      case 4:
        return zstdDecompress(data);
    }
  } catch (err) {
    throw new Error(`its ${CODEC_NAMES[codec]} data does not decompress (${(err as Error).message})`, { cause: err });
  }
  throw new Error(`it is compressed with codec ${codec}, which Kafka does not define (known: gzip, snappy, lz4, zstd)`);
}
