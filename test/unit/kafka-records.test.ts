// The record decoder fed with bytes real producers wrote: test/fixtures/kafka-batches/*.bin are
// partitions as a broker returned them (capture.mjs there says how they were made), one per client
// (kcat = librdkafka, java = Kafka's ConsoleProducer) and codec.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decompressBatch, zstdDecoders } from '../../src/adapters/kafka-codecs.js';
import { forEachRecord } from '../../src/adapters/kafka-records.js';
import { runClient } from '../support/real-clients.js';
import { ensureNode } from '../../scripts/node-lib.mjs';
import { FIXTURE_EVENTS, fixtureEvent } from '../fixtures/kafka-batches/events.mjs';

const FIXTURES = fileURLToPath(new URL('../fixtures/kafka-batches/', import.meta.url));
const fixture = (name: string): Buffer => readFileSync(path.join(FIXTURES, `${name}.bin`));
const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
const CLIENTS = ['kcat', 'java'] as const;

/** The batches of a partition's bytes: where each starts, its base offset, codec and payload. */
function batches(records: Buffer): { at: number; baseOffset: number; codec: number; payload: Buffer }[] {
  const out = [];
  for (let at = 0; at + 12 <= records.length; at += 12 + records.readInt32BE(at + 8)) {
    out.push({ at, baseOffset: Number(records.readBigInt64BE(at)), codec: records.readInt16BE(at + 21) & 7, payload: records.subarray(at + 61, at + 12 + records.readInt32BE(at + 8)) });
  }
  return out;
}

function flip(buf: Buffer, at: number): void {
  buf[at] = (buf[at] as number) ^ 0x01;
}

function decodeAll(records: Buffer, from = 0): { offset: number; key: string | undefined; value: string | undefined }[] {
  const got: { offset: number; key: string | undefined; value: string | undefined }[] = [];
  forEachRecord(0, records, from, [], (r) => got.push({ offset: r.offset, key: r.key?.toString(), value: r.value?.toString() }));
  return got;
}

describe('forEachRecord on batches real producers wrote', () => {
  for (const client of CLIENTS) {
    for (const codec of CODECS) {
      it(`${client}, ${codec}: every record, in order, with its key and value`, () => {
        const records = fixture(`${client}-${codec}`);
        // The producer really used the codec (a client may fall back to none when it lacks one).
        expect(new Set(batches(records).map((b) => b.codec))).toEqual(new Set([CODECS.indexOf(codec) + 1]));
        const got = decodeAll(records);
        expect(got.length).toBe(FIXTURE_EVENTS);
        got.forEach((r, i) => expect(r).toEqual({ offset: i, key: `ex-${i}`, value: JSON.stringify(fixtureEvent(i)) }));
      });
    }
  }

  it('Java writes snappy in xerial framing, librdkafka raw: both read', () => {
    expect(batches(fixture('java-snappy'))[0]?.payload.subarray(0, 8).toString('latin1')).toBe('\x82SNAPPY\x00');
    expect(batches(fixture('kcat-snappy'))[0]?.payload.subarray(0, 8).toString('latin1')).not.toBe('\x82SNAPPY\x00');
  });

  it('keys: false hands every key over as null, the rest unchanged', () => {
    const records = fixture('kcat-lz4');
    const got: { offset: number; key: Buffer | null; value: string | undefined }[] = [];
    forEachRecord(0, records, 0, [], (r) => got.push({ offset: r.offset, key: r.key, value: r.value?.toString() }), false);
    expect(got.map((r) => r.key)).toEqual(Array.from({ length: FIXTURE_EVENTS }, () => null));
    expect(got.map(({ offset, value }) => ({ offset, value }))).toEqual(decodeAll(records).map(({ offset, value }) => ({ offset, value })));
  });

  it('starts in the middle of a compressed batch', () => {
    const got = decodeAll(fixture('java-zstd'), 100);
    expect(got.map((r) => r.offset)).toEqual(Array.from({ length: FIXTURE_EVENTS - 100 }, (_, i) => 100 + i));
  });

  it('a batch whose bytes do not match its CRC fails, naming partition and offset', () => {
    for (const [name, batch] of [['java-zstd', 1], ['kcat-lz4', 0], ['java-gzip', 1]] as const) {
      const records = Buffer.from(fixture(name));
      const b = batches(records)[batch] as ReturnType<typeof batches>[number];
      flip(records, b.at + 61 + 5); // one bit of the compressed records
      expect(() => decodeAll(records)).toThrow(new RegExp(`^record batch at partition 0 offset ${b.baseOffset} is corrupt: its CRC-32C is 0x[0-9a-f]{8}, its bytes give 0x[0-9a-f]{8}$`));
    }
    // A flipped bit in a header field the CRC covers (the record count) is caught the same way.
    const records = Buffer.from(fixture('kcat-gzip'));
    flip(records, 60);
    expect(() => decodeAll(records)).toThrow(/record batch at partition 0 offset 0 is corrupt/);
  });

  it('a batch skipped as a whole (before the fetch offset) is not checked', () => {
    const records = Buffer.from(fixture('java-zstd'));
    const [first, second] = batches(records) as ReturnType<typeof batches>;
    flip(records, first!.at + 61 + 5);
    expect(decodeAll(records, second!.baseOffset).length).toBe(FIXTURE_EVENTS - second!.baseOffset);
  });

  it('a payload that does not decompress names the codec', () => {
    expect(() => decompressBatch(3, Buffer.from('not lz4 at all'))).toThrow(/^its lz4 data does not decompress \(lz4: not an LZ4 frame/);
    expect(() => decompressBatch(4, Buffer.from('not zstd'))).toThrow(/^its zstd data does not decompress/);
    expect(() => decompressBatch(2, Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0]))).toThrow(/^its snappy data does not decompress \(snappy: truncated xerial block\)/);
    expect(() => decompressBatch(6, Buffer.alloc(4))).toThrow(/codec 6, which Kafka does not define/);
  });
});

describe('zstd: node:zlib where Node has it, fzstd everywhere', () => {
  it(`the decoders of this Node (${process.version}) agree on both producers' batches`, () => {
    expect(zstdDecoders.at(-1)?.name).toBe('fzstd');
    for (const client of CLIENTS) {
      for (const b of batches(fixture(`${client}-zstd`))) {
        const outputs = zstdDecoders.map((d) => d.decompress(b.payload));
        expect(outputs[0]?.length).toBeGreaterThan(b.payload.length);
        for (const o of outputs) expect(o.equals(outputs[0] as Buffer)).toBe(true);
      }
    }
  });

  // Node 20 has no zstd in zlib: run the built decoder under a Node that has (22.15+, 24).
  it('Node 24 reads the zstd batches through node:zlib', { timeout: 300_000 }, async () => {
    const node = await ensureNode(24);
    const dist = fileURLToPath(new URL('../../dist/adapters/', import.meta.url));
    const script = `
      const { readFileSync } = await import('node:fs');
      const { forEachRecord } = await import(${JSON.stringify(path.join(dist, 'kafka-records.js'))});
      const { zstdDecoders } = await import(${JSON.stringify(path.join(dist, 'kafka-codecs.js'))});
      const out = { decoder: zstdDecoders[0].name };
      for (const client of ['kcat', 'java']) {
        const values = [];
        forEachRecord(0, readFileSync(${JSON.stringify(FIXTURES)} + client + '-zstd.bin'), 0, [], (r) => values.push(r.value.toString()));
        out[client] = values;
      }
      console.log(JSON.stringify(out));`;
    const out = JSON.parse(await runClient(node, ['--input-type=module', '-e', script])) as Record<string, unknown>;
    expect(out.decoder).toBe('node:zlib');
    const expected = Array.from({ length: FIXTURE_EVENTS }, (_, i) => JSON.stringify(fixtureEvent(i)));
    expect(out.kcat).toEqual(expected);
    expect(out.java).toEqual(expected);
  });
});
