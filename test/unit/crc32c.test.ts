import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/util/crc32c.js';

/** The definition, one bit at a time: what the sliced tables must agree with. */
function bitwise(buf: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('has the published check values', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43); // RFC 3720 B.4: 32 bytes of ones
    expect(crc32c(Buffer.alloc(0))).toBe(0);
  });

  it('equals the bitwise definition on any range of any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(20), fc.nat(20), (bytes, a, b) => {
        const start = Math.min(a, bytes.length);
        const end = Math.max(start, bytes.length - b);
        expect(crc32c(bytes, start, end)).toBe(bitwise(bytes.subarray(start, end)));
      }),
      { numRuns: 2000 },
    );
  });

  it('equals it on views that start anywhere in their memory (the word loop aligns itself)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 200 }), fc.nat(3), fc.nat(40), (bytes, shift, a) => {
        const view = bytes.subarray(shift);
        const start = Math.min(a, view.length);
        expect(crc32c(view, start)).toBe(bitwise(view.subarray(start)));
      }),
      { numRuns: 2000 },
    );
  });
});
