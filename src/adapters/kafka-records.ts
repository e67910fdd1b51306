/**
 * Decoding of Fetch responses (versions 4–11) and of the record batches (magic 2) they carry,
 * without an object per record beyond the one handed to the caller: offsets are plain numbers,
 * keys and values are views into the response buffer (no copies). Used by the topic reader of the
 * kafkajs adapter, which sends the Fetch requests through kafkajs's connections and decodes their
 * answers here, because kafkajs's own decoder (Long arithmetic, a string offset, a copy and several
 * objects per record) costs more than the checks kafka.verify runs on each event.
 *
 * What it does as the Java consumer does: records before the fetch offset are skipped (a batch
 * may start earlier), a batch cut short by the size limits ends the partition's data, control
 * batches are skipped, and with read_committed the batches of aborted transactions are dropped
 * (the response lists them). Every codec is read (gzip, snappy, lz4, zstd: kafka-codecs.ts), and
 * each batch's CRC-32C is checked before it is read, as the Java consumer does (kafkajs does not).
 */
import { crc32c } from '../util/crc32c.js';
import type { KafkaRecord } from './kafka.js';
import { decompressBatch } from './kafka-codecs.js';

/** One partition of a Fetch response. `records` is a view of the response, or null. */
export interface FetchedPartition {
  partition: number;
  errorCode: number;
  highWatermark: number;
  /** The last stable offset (read_committed reads stop there); -1 when the broker sent none. */
  lastStableOffset: number;
  /** -1 before version 5. */
  logStartOffset: number;
  aborted: { producerId: bigint; firstOffset: number }[];
  records: Buffer | null;
}

export interface FetchResponse {
  errorCode: number;
  topics: { topic: string; partitions: FetchedPartition[] }[];
}

const TWO_32 = 4294967296;

function int64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
}

/** Decodes the body of a Fetch response (after the correlation id) of the given version. */
export function decodeFetchResponse(version: number, buf: Buffer): FetchResponse {
  if (version < 4 || version > 11) throw new Error(`Fetch response version ${version} is not supported (4–11)`);
  let at = 4; // throttle_time_ms
  let errorCode = 0;
  if (version >= 7) {
    errorCode = buf.readInt16BE(at);
    at += 2 + 4; // error_code, session_id
  }
  const topics: FetchResponse['topics'] = [];
  const topicCount = buf.readInt32BE(at);
  at += 4;
  for (let t = 0; t < topicCount; t++) {
    const nameLength = buf.readInt16BE(at);
    const topic = buf.toString('utf8', at + 2, at + 2 + nameLength);
    at += 2 + nameLength;
    const partitions: FetchedPartition[] = [];
    const partitionCount = buf.readInt32BE(at);
    at += 4;
    for (let p = 0; p < partitionCount; p++) {
      const partition = buf.readInt32BE(at);
      const partitionError = buf.readInt16BE(at + 4);
      const highWatermark = int64(buf, at + 6);
      const lastStableOffset = int64(buf, at + 14);
      at += 22;
      let logStartOffset = -1;
      if (version >= 5) {
        logStartOffset = int64(buf, at);
        at += 8;
      }
      const aborted: FetchedPartition['aborted'] = [];
      const abortedCount = buf.readInt32BE(at);
      at += 4;
      for (let a = 0; a < abortedCount; a++) {
        aborted.push({ producerId: buf.readBigInt64BE(at), firstOffset: int64(buf, at + 8) });
        at += 16;
      }
      if (version >= 11) at += 4; // preferred_read_replica
      const size = buf.readInt32BE(at);
      at += 4;
      let records: Buffer | null = null;
      if (size > 0) {
        records = buf.subarray(at, Math.min(at + size, buf.length));
        at += size;
      }
      aborted.sort((x, y) => x.firstOffset - y.firstOffset);
      partitions.push({ partition, errorCode: partitionError, highWatermark, lastStableOffset, logStartOffset, aborted, records });
    }
    topics.push({ topic, partitions });
  }
  return { errorCode, topics };
}

const BATCH_HEADER = 61; // baseOffset .. records count
const MIN_BATCH = 12; // baseOffset + batchLength

/**
 * The offset after the last complete batch in `records`, or `from` when there is none: where the
 * next fetch of the partition starts. Reads batch headers only.
 */
export function nextFetchOffset(records: Buffer | null, from: number): number {
  if (!records) return from;
  let next = from;
  let at = 0;
  while (at + MIN_BATCH <= records.length) {
    const length = records.readInt32BE(at + 8);
    if (at + MIN_BATCH + length > records.length || length < BATCH_HEADER - MIN_BATCH) break;
    const last = int64(records, at) + records.readInt32BE(at + 23) + 1;
    if (last > next) next = last;
    at += MIN_BATCH + length;
  }
  return next;
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

// Varint reading with the position in a module variable: no object per call.
let pos = 0;

function varint(buf: Buffer): number {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[pos++] as number;
    if (shift < 28) value |= (byte & 0x7f) << shift;
    else value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) break;
    shift += 7;
    if (shift > 63) throw new Error('malformed varint in a record batch');
  }
  // zigzag: values past 2^31 (timestamp deltas only, in practice) with arithmetic instead of bit ops
  if (shift < 28) return (value >>> 1) ^ -(value & 1);
  return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}

/**
 * Calls `onRecord` for each record of one partition's data at offset >= `from`, in order, skipping
 * control batches and (when `aborted` is given, from a read_committed fetch) aborted transactions.
 * The record object is new for each call; key and value are views of `records`. `keys: false`
 * hands every key over as null (a caller that reads no keys saves a view per record).
 */
export function forEachRecord(
  partition: number,
  records: Buffer,
  from: number,
  aborted: FetchedPartition['aborted'],
  onRecord: (r: KafkaRecord) => void,
  keys = true,
): void {
  // The Java consumer's rule: an aborted transaction starts at its first offset and ends at the
  // producer's abort marker (a control batch); its producer's transactional batches between are dropped.
  let nextAborted = 0;
  const abortedProducers = new Set<bigint>();
  let at = 0;
  while (at + MIN_BATCH <= records.length) {
    const baseOffset = int64(records, at);
    const length = records.readInt32BE(at + 8);
    const end = at + MIN_BATCH + length;
    if (end > records.length || length < BATCH_HEADER - MIN_BATCH) break; // cut short by the size limit
    const magic = records.readInt8(at + 16);
    if (magic !== 2) throw new Error(`record batch at partition ${partition} offset ${baseOffset} has magic ${magic}; only magic 2 (Kafka 0.11+) is supported`);
    const attributes = records.readInt16BE(at + 21);
    const lastOffset = baseOffset + records.readInt32BE(at + 23);
    if (lastOffset < from) {
      at = end;
      continue;
    }
    // The CRC covers attributes to the batch's end: everything the batch says past its offset and length.
    const storedCrc = records.readUInt32BE(at + 17);
    const crc = crc32c(records, at + 21, end);
    if (crc !== storedCrc) {
      throw new Error(`record batch at partition ${partition} offset ${baseOffset} is corrupt: its CRC-32C is ${hex(storedCrc)}, its bytes give ${hex(crc)}`);
    }
    const firstTimestamp = int64(records, at + 27);
    const transactional = (attributes & 0x10) !== 0;
    const control = (attributes & 0x20) !== 0;
    const producerId = transactional ? records.readBigInt64BE(at + 43) : 0n;
    while (nextAborted < aborted.length && (aborted[nextAborted] as { firstOffset: number }).firstOffset <= lastOffset) {
      abortedProducers.add((aborted[nextAborted] as { producerId: bigint }).producerId);
      nextAborted += 1;
    }
    if (control) {
      // An abort marker (control type 0) ends the producer's aborted transaction; commit markers end nothing we track.
      if (transactional) abortedProducers.delete(producerId);
      at = end;
      continue;
    }
    if (transactional && abortedProducers.has(producerId)) {
      at = end;
      continue;
    }
    const count = records.readInt32BE(at + 57);
    const compression = attributes & 0x07;
    let data: Buffer = records;
    pos = at + BATCH_HEADER;
    let dataEnd = end;
    if (compression !== 0) {
      try {
        data = decompressBatch(compression, records.subarray(at + BATCH_HEADER, end));
      } catch (err) {
        throw new Error(`record batch at partition ${partition} offset ${baseOffset} cannot be read: ${(err as Error).message}`, { cause: err });
      }
      pos = 0;
      dataEnd = data.length;
    }
    for (let i = 0; i < count && pos < dataEnd; i++) {
      const recordLength = varint(data);
      const recordEnd = pos + recordLength;
      pos += 1; // attributes
      const timestampDelta = varint(data);
      const offset = baseOffset + varint(data);
      const keyLength = varint(data);
      const key = keyLength < 0 || !keys ? null : data.subarray(pos, pos + keyLength);
      if (keyLength > 0) pos += keyLength;
      const valueLength = varint(data);
      const value = valueLength < 0 ? null : data.subarray(pos, pos + valueLength);
      pos = recordEnd; // headers are not read
      if (offset >= from) onRecord({ partition, offset, key, value, timestamp: firstTimestamp + timestampDelta });
    }
    at = end;
  }
}
