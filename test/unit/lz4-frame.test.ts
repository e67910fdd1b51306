// Our LZ4 frame decoder against frames the reference implementation wrote (Debian's lz4 1.9.4 CLI,
// commands in test/fixtures/lz4/README.md), beside the frames Kafka's clients write
// (test/unit/kafka-records.test.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { lz4FrameDecompress } from '../../src/util/lz4-frame.js';
import { fixtureText, incompressible } from '../fixtures/kafka-batches/events.mjs';

const frame = (name: string): Buffer => readFileSync(new URL(`../fixtures/lz4/${name}.lz4`, import.meta.url));
const text = Buffer.from(fixtureText());

describe('lz4FrameDecompress', () => {
  it('linked blocks (a match reaches into the block before)', () => {
    expect(lz4FrameDecompress(frame('linked')).equals(text)).toBe(true);
  });

  it('block checksums and a content size in the header', () => {
    expect(lz4FrameDecompress(frame('checksums-size')).equals(text)).toBe(true);
  });

  it('two frames one after the other, the second holding a stored (uncompressed) block', () => {
    expect(lz4FrameDecompress(frame('two-frames')).equals(Buffer.concat([text, incompressible()]))).toBe(true);
  });

  it('a truncated or damaged frame is an error, not wrong data', () => {
    const f = frame('linked');
    expect(() => lz4FrameDecompress(f.subarray(0, f.length - 100))).toThrow(/^lz4: truncated/);
    expect(() => lz4FrameDecompress(f.subarray(0, 5))).toThrow(/^lz4: truncated frame header/);
    expect(() => lz4FrameDecompress(Buffer.from('plain text, no frame'))).toThrow(/^lz4: not an LZ4 frame/);
    const sized = Buffer.from(frame('checksums-size'));
    sized[6] = (sized[6] as number) + 1; // the content size, one byte more than the blocks hold
    expect(() => lz4FrameDecompress(sized)).toThrow(/^lz4: frame holds \d+ bytes, its header says \d+/);
    // A match offset pointing before the start of the data.
    const bad = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82, 5, 0, 0, 0, 0x10, 0x41, 0x09, 0x00, 0x00, 0, 0, 0, 0]);
    expect(() => lz4FrameDecompress(bad)).toThrow(/^lz4: match offset 9 reaches before the data/);
  });
});
