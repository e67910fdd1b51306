/**
 * kafka.verify's per-event checks, written once for whichever thread runs them (the reading
 * thread, or a worker of CheckPool): each record's value parsed as JSON, validated against the
 * schema, its event_id hashed for the duplicate table, a few keys sampled for parity. The answer is
 * compact (a count, the 64-bit id hashes and offsets in typed arrays a worker can transfer, the
 * first failure) and the same whichever thread produced it, so the step reads it in one place.
 * Duplicates across records are found there, in chunk order: this module keeps no state between calls.
 *
 * src/verify/ is kafka.verify's engine room, between the step and the adapters: it is no adapter of
 * an outside system, and src/schema (which the adapters import) cannot import the record decoder
 * without an arrow back up. Decoding stays in adapters/kafka-records.ts.
 */
import type { KafkaRecord, RecordChunk } from '../adapters/kafka.js';
import { forEachRecord } from '../adapters/kafka-records.js';
import type { SchemaIssue, Validator } from '../schema/validate.js';
import { hashId } from '../util/seen-ids.js';

/** Why a record stopped the checks; only the first is kept, the records after it are not checked. */
export interface EventFailure {
  offset: number;
  tombstone?: boolean;
  notJson?: boolean;
  /** The first issue only (all of them would be a large message to copy out of a worker). */
  issues?: SchemaIssue[];
  /** How many issues besides `issues`. */
  more?: number;
  /** The records could not be decoded (a corrupt batch, an unknown codec). */
  error?: string;
}

/** What the checks of one partition's records found. */
export interface CheckResult {
  /** Events that passed, in front of the failure if there is one. */
  passed: number;
  /** hashId() of each string event_id that passed, two 32-bit halves each, in offset order. */
  hashes: Uint32Array;
  /** The offset of each hashed event_id. */
  offsets: Float64Array;
  failure?: EventFailure;
  /** The first distinct keys (as many as asked for) with their payloads, for the parity comparison. */
  samples?: { key: string; payload: unknown; offset: number }[];
}

/** Checked records of one partition, as the step takes them in. `eventId(offset)` re-reads one event's id (to name a duplicate). */
export type CheckedRecords = CheckResult & { partition: number; eventId(offset: number): string | undefined };

/** Records of one partition, handed one by one to the callback in offset order. */
export type RecordSource = (onRecord: (r: KafkaRecord) => void) => void;

/** The records of a chunk as fetched, decoded on the calling thread. */
export function chunkRecords(chunk: Pick<RecordChunk, 'partition' | 'from' | 'records' | 'aborted'>): RecordSource {
  return (onRecord) => forEachRecord(chunk.partition, chunk.records, chunk.from, chunk.aborted, onRecord);
}

// Grown as needed and reused from call to call: no allocation per event; the answer gets copies.
let hashes = new Uint32Array(2 * 4096);
let offsets = new Float64Array(4096);

/**
 * Checks the records `source` hands over, stopping at the first failure: a tombstone, a value that
 * is not JSON, an event the schema rejects, or records that cannot be decoded (reported at `from`).
 * `samples`: how many distinct keys to keep with their payloads (0: none).
 */
export function checkEvents(source: RecordSource, from: number, validate: Validator, samples: number): CheckResult {
  let passed = 0;
  let ids = 0;
  let failure: EventFailure | undefined;
  const sampled: NonNullable<CheckResult['samples']> = [];
  const onRecord = (r: KafkaRecord): void => {
    if (failure) return;
    if (r.value === null) {
      failure = { offset: r.offset, tombstone: true };
      return;
    }
    let event: unknown;
    try {
      event = JSON.parse(r.value.toString('utf8'));
    } catch {
      failure = { offset: r.offset, notJson: true };
      return;
    }
    const issues = validate(event);
    if (issues.length) {
      failure = { offset: r.offset, issues: issues.slice(0, 1), more: issues.length - 1 };
      return;
    }
    const id = (event as { event_id?: unknown }).event_id;
    if (typeof id === 'string') {
      if (ids === offsets.length) {
        const [h, o] = [hashes, offsets];
        hashes = new Uint32Array(h.length * 2);
        offsets = new Float64Array(o.length * 2);
        hashes.set(h);
        offsets.set(o);
      }
      hashId(id, hashes, 2 * ids);
      offsets[ids] = r.offset;
      ids += 1;
    }
    passed += 1;
    if (sampled.length < samples && r.key) {
      const key = r.key.toString('utf8');
      if (!sampled.some((s) => s.key === key)) sampled.push({ key, payload: (event as { payload?: unknown }).payload, offset: r.offset });
    }
  };
  try {
    source(onRecord);
  } catch (err) {
    failure = { offset: from, error: (err as Error).message };
  }
  return { passed, hashes: hashes.slice(0, 2 * ids), offsets: offsets.slice(0, ids), failure, ...(sampled.length ? { samples: sampled } : {}) };
}

/** The event_id of the record at `offset`, when it is JSON with a string event_id. */
export function eventIdAt(source: RecordSource, offset: number): string | undefined {
  let id: string | undefined;
  source((r) => {
    if (r.offset !== offset || id !== undefined) return;
    try {
      const v = (JSON.parse(r.value?.toString('utf8') ?? 'null') as { event_id?: unknown } | null)?.event_id;
      if (typeof v === 'string') id = v;
    } catch {
      // not JSON: no id
    }
  });
  return id;
}

/** Checks a chunk on the calling thread: what a worker of CheckPool answers for it. */
export function checkChunk(chunk: RecordChunk, validate: Validator, samples: number): CheckedRecords {
  const records = chunkRecords(chunk);
  return { ...checkEvents(records, chunk.from, validate, samples), partition: chunk.partition, eventId: (offset) => eventIdAt(records, offset) };
}

/** Checks one record already decoded (a reader without chunks). */
export function checkRecord(r: KafkaRecord, validate: Validator, samples: number): CheckedRecords {
  const records: RecordSource = (onRecord) => onRecord(r);
  return { ...checkEvents(records, r.offset, validate, samples), partition: r.partition, eventId: (offset) => eventIdAt(records, offset) };
}
