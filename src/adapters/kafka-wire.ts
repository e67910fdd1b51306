/**
 * Kafka's wire format for the requests migrate encodes itself (kafka-groups.ts, kafka-offset-requests.ts):
 * a reader and a writer of the flexible-version encoding (compact strings and arrays: unsigned
 * varint length + 1; tagged fields after each structure), the version both sides speak, and
 * sending a body through a kafkajs broker's connection (kafkajs writes request header v1 and strips
 * the response's correlation id).
 */
import { kafkajsInternals, rawResponse, type Broker } from './kafka-internals.js';

/** Reads Kafka's flexible-version encoding from a buffer; every read is bounds-checked. */
export class FlexibleReader {
  private at = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  private need(n: number, field: string): void {
    if (n < 0 || this.at + n > this.buf.length) {
      throw new Error(`${this.what}: ${field} at byte ${this.at} needs ${n} bytes, only ${this.buf.length - this.at} left (not the layout migrate expects)`);
    }
  }

  int8(): number {
    this.need(1, 'int8');
    return this.buf.readInt8(this.at++);
  }

  int16(): number {
    this.need(2, 'int16');
    const v = this.buf.readInt16BE(this.at);
    this.at += 2;
    return v;
  }

  int32(): number {
    this.need(4, 'int32');
    const v = this.buf.readInt32BE(this.at);
    this.at += 4;
    return v;
  }

  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift <= 28; shift += 7) {
      this.need(1, 'varint');
      const byte = this.buf[this.at++] as number;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new Error(`${this.what}: a varint longer than 5 bytes at byte ${this.at}`);
  }

  /** An int64 as a number: offsets and timestamps stay far below 2^53. */
  int64(): number {
    this.need(8, 'int64');
    const v = Number(this.buf.readBigInt64BE(this.at));
    this.at += 8;
    return v;
  }

  uuid(): Buffer {
    this.need(16, 'uuid');
    const v = this.buf.subarray(this.at, this.at + 16);
    this.at += 16;
    return v;
  }

  nullableString(): string | null {
    const n = this.uvarint();
    if (n === 0) return null;
    this.need(n - 1, 'string');
    const v = this.buf.toString('utf8', this.at, this.at + n - 1);
    this.at += n - 1;
    return v;
  }

  string(): string {
    const at = this.at;
    const v = this.nullableString();
    if (v === null) throw new Error(`${this.what}: a null string at byte ${at} where the layout has a non-null one`);
    return v;
  }

  array<T>(item: () => T): T[] {
    const at = this.at;
    const n = this.uvarint();
    if (n === 0) throw new Error(`${this.what}: a null array at byte ${at} where the layout has a non-null one`);
    // Each item takes at least one byte: a length past the buffer is garbage, not a reason to loop.
    if (n - 1 > this.buf.length - this.at) throw new Error(`${this.what}: an array of ${n - 1} items at byte ${at} in ${this.buf.length - this.at} bytes`);
    return Array.from({ length: n - 1 }, item);
  }

  /** Tagged fields: none of these structures defines one, so each is skipped by its size. */
  taggedFields(): void {
    const count = this.uvarint();
    for (let i = 0; i < count; i++) {
      this.uvarint(); // tag
      const size = this.uvarint();
      this.need(size, 'tagged field');
      this.at += size;
    }
  }

  end(): void {
    if (this.at !== this.buf.length) throw new Error(`${this.what}: ${this.buf.length - this.at} bytes left over after byte ${this.at} (not the layout migrate expects)`);
  }
}

/** Writes Kafka's flexible-version encoding into a buffer that grows as needed. */
export class FlexibleWriter {
  private buf: Buffer;
  private at = 0;

  constructor(capacity = 256) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }

  int8(v: number): this {
    this.room(1);
    this.at = this.buf.writeInt8(v, this.at);
    return this;
  }

  int32(v: number): this {
    this.room(4);
    this.at = this.buf.writeInt32BE(v, this.at);
    return this;
  }

  int64(v: number): this {
    this.room(8);
    this.at = this.buf.writeBigInt64BE(BigInt(v), this.at);
    return this;
  }

  boolean(v: boolean): this {
    return this.int8(v ? 1 : 0);
  }

  uvarint(v: number): this {
    this.room(5);
    while (v >= 0x80) {
      this.buf[this.at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.at++] = v;
    return this;
  }

  /** A compact nullable string: length + 1 (0 for null), then UTF-8. */
  string(v: string | null): this {
    if (v === null) return this.uvarint(0);
    const n = Buffer.byteLength(v);
    this.uvarint(n + 1);
    this.room(n);
    this.at += this.buf.write(v, this.at);
    return this;
  }

  /** A compact array: length + 1, then each item. */
  array<T>(items: readonly T[], item: (x: T) => void): this {
    this.uvarint(items.length + 1);
    for (const x of items) item(x);
    return this;
  }

  /** No tagged fields. */
  noTags(): this {
    return this.uvarint(0);
  }

  get buffer(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

/** The highest version of `apiKey` both the broker and migrate speak, or undefined when there is none. */
export function commonVersion(broker: Broker, apiKey: number, min: number, max: number): number | undefined {
  const v = broker.versions?.[apiKey];
  if (!v) return undefined;
  const version = Math.min(v.maxVersion, max);
  return version >= Math.max(v.minVersion, min) ? version : undefined;
}

/** Sends a request kafkajs does not implement: our own body, kafkajs's connection and header v1. */
export async function send(broker: Broker, apiKey: number, apiName: string, apiVersion: number, body: Buffer): Promise<Buffer> {
  const request = { apiKey, apiVersion, apiName, encode: async () => kafkajsInternals().encoder().writeBuffer(body) };
  try {
    return (await broker.connectionPool.send({ request, response: rawResponse })) as Buffer;
  } catch (err) {
    if ((err as { name?: string }).name === 'KafkaJSConnectionClosedError') await broker.disconnect().catch(() => undefined);
    throw err;
  }
}

