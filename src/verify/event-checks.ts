/**
 * kafka.verify's per-event checks, written once for whichever thread runs them (the reading
 * thread, or a worker of CheckPool): each record's value parsed as JSON, validated against the
 * schema (one for all, or the schema of the event's own version), its event_id and (with an
 * operationKey) its operation hashed for the duplicate tables, a few keys sampled for parity. The answer is
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
import { compileSchema, type SchemaIssue, type Validator } from '../schema/validate.js';
import { compileFastCheck, type FastCheck } from './fast-path.js';
import { parsePointer, valueAt } from '../util/json.js';
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
  /** The version whose schema gave `issues`, when each event is checked against its own version's. */
  version?: number;
  /** What the event is ("ExerciseCompleted v2", "ExerciseCompleted without a numeric event_version"), when no allowed schema is its own. */
  unexpected?: string;
  /** The operationKey pointer that points at nothing in the event. */
  noOperation?: string;
  /** The records could not be decoded (a corrupt batch, an unknown codec). */
  error?: string;
}

/** 64-bit hashes (hashId) with the offset of each, in offset order. */
export interface HashedOffsets {
  /** Two 32-bit halves per entry. */
  hashes: Uint32Array;
  offsets: Float64Array;
}

/** What the checks of one partition's records found; `hashes`/`offsets`: hashId() of each string event_id that passed. */
export interface CheckResult extends HashedOffsets {
  /** Events that passed, in front of the failure if there is one. */
  passed: number;
  failure?: EventFailure;
  /** The first distinct keys (as many as asked for) with their payloads, for the parity comparison. */
  samples?: { key: string; payload: unknown; offset: number }[];
  /** With an operationKey: hashId() of each passed event's operation (operationText), in offset order. */
  ops?: HashedOffsets;
}

/** Checked records of one partition, as the step takes them in. `eventAt(offset)` re-reads one event (to name a duplicate). */
export type CheckedRecords = CheckResult & { partition: number; eventId(offset: number): string | undefined; eventAt(offset: number): unknown };

/** Records of one partition, handed one by one to the callback in offset order. */
export type RecordSource = (onRecord: (r: KafkaRecord) => void) => void;

/** What each event is checked against, compiled once per thread. */
export interface EventRules {
  /** The one validator of every event; unused when `byVersion` is set. */
  validate?: Validator;
  /** Each event against the schema of its own event_version, for events named `event`; any other name or version fails. */
  byVersion?: { event: string; validators: Map<number, Validator> };
  /** The operationKey pointers, parsed; absent: operations are not keyed. */
  operationKey?: OperationPointer[];
  /** The fast path of `validate`'s schema (fast-path.ts): events it cannot decide go through JSON.parse + `validate`. */
  fast?: FastCheck;
}

/** One pointer of an operationKey: as written, and its reference tokens. */
export interface OperationPointer {
  pointer: string;
  tokens: string[];
}

/** EventRules as plain data, what a worker thread is sent to compile. */
export interface EventRulesSetup {
  /** The schema of every event (the step's `version`). */
  schema?: Record<string, unknown>;
  /** Instead of `schema`: the schema of each allowed version of `event`. */
  versions?: { event: string; schemas: { version: number; schema: Record<string, unknown> }[] };
  /** JSON Pointers into the event whose values together name its business operation. */
  operationKey?: string[];
}

/** Compiles what EventRulesSetup describes. Throws when a schema does not compile or a pointer is not a JSON Pointer. */
export async function compileRules(setup: EventRulesSetup): Promise<EventRules> {
  const rules: EventRules = {};
  if (setup.versions) {
    const validators = new Map<number, Validator>();
    for (const s of setup.versions.schemas) validators.set(s.version, await compileSchema(s.schema));
    rules.byVersion = { event: setup.versions.event, validators };
  } else if (setup.schema) {
    rules.validate = await compileSchema(setup.schema);
  }
  if (setup.operationKey?.length) rules.operationKey = setup.operationKey.map(operationPointer);
  if (rules.validate && setup.schema && process.env.MIGRATE_VERIFY_FAST !== '0') rules.fast = compileFastCheck(setup.schema, rules.operationKey);
  return rules;
}

/** Parses one operationKey pointer; throws naming it when it is not a JSON Pointer into the event. */
export function operationPointer(pointer: string): OperationPointer {
  const tokens = parsePointer(pointer);
  if (!tokens?.length) throw new Error(`operationKey ${JSON.stringify(pointer)} is not a JSON Pointer into the event (e.g. /payload/exercise_id)`);
  return { pointer, tokens };
}

/** The values an event's operationKey points at, in order; or the first pointer that points at nothing. */
export function operationValues(event: unknown, key: readonly OperationPointer[]): unknown[] | { missing: string } {
  const values: unknown[] = [];
  for (const p of key) {
    const v = valueAt(event, p.tokens);
    if (v === undefined) return { missing: p.pointer };
    values.push(v);
  }
  return values;
}

/**
 * The one text an operation is hashed as: its key's values as a JSON array. The events' values
 * (operationValues) and a source's listing (a key of one value, or an array) meet here.
 */
export function operationText(values: readonly unknown[]): string {
  return JSON.stringify(values);
}

/** An operation as a message names it: `/payload/exercise_id "ex-1", /payload/candidate_id "c-1"`. */
export function describeOperation(values: readonly unknown[], key: readonly OperationPointer[]): string {
  return values.map((v, i) => `${key[i]?.pointer ?? `#${i}`} ${JSON.stringify(v)}`).join(', ');
}

/** The records of a chunk as fetched, decoded on the calling thread; `keys: false`: every key null (the checks read keys only to sample them). */
export function chunkRecords(chunk: Pick<RecordChunk, 'partition' | 'from' | 'records' | 'aborted'>, keys = true): RecordSource {
  return (onRecord) => forEachRecord(chunk.partition, chunk.records, chunk.from, chunk.aborted, onRecord, keys);
}

/** A growable list of hashed texts and their offsets, reused from call to call: no allocation per event; take() answers copies. */
class HashList {
  private hashes = new Uint32Array(2 * 4096);
  private offsets = new Float64Array(4096);
  private n = 0;

  push(text: string, offset: number): void {
    this.room();
    hashId(text, this.hashes, 2 * this.n);
    this.offsets[this.n] = offset;
    this.n += 1;
  }

  /** Pushes what `hash` writes (a fast path's hash of a text straight from its bytes); false, and nothing pushed, when it writes nothing. */
  pushHashed(hash: (bytes: Buffer, out: Uint32Array, at: number) => boolean, bytes: Buffer, offset: number): boolean {
    this.room();
    if (!hash(bytes, this.hashes, 2 * this.n)) return false;
    this.offsets[this.n] = offset;
    this.n += 1;
    return true;
  }

  private room(): void {
    if (this.n < this.offsets.length) return;
    const [h, o] = [this.hashes, this.offsets];
    this.hashes = new Uint32Array(h.length * 2);
    this.offsets = new Float64Array(o.length * 2);
    this.hashes.set(h);
    this.offsets.set(o);
  }

  take(): HashedOffsets {
    const out = { hashes: this.hashes.slice(0, 2 * this.n), offsets: this.offsets.slice(0, this.n) };
    this.n = 0;
    return out;
  }
}

const idList = new HashList();
const opList = new HashList();

/** "ExerciseCompleted v2": what an event says it is, for a message. */
function whatEventIs(event: unknown): string {
  const e = (event ?? {}) as { event_name?: unknown; event_version?: unknown };
  const name = typeof e.event_name === 'string' ? e.event_name : `an event with event_name ${JSON.stringify(e.event_name) ?? 'missing'}`;
  return typeof e.event_version === 'number' ? `${name} v${e.event_version}` : `${name} without a numeric event_version (${JSON.stringify(e.event_version) ?? 'missing'})`;
}

/**
 * Checks the records `source` hands over, stopping at the first failure: a tombstone, a value that
 * is not JSON, an event the schema rejects (or of a name or version without an allowed schema), an
 * operationKey pointing at nothing, or records that cannot be decoded (reported at `from`).
 * `check`: one validator for every event, or EventRules. `samples`: how many distinct keys to keep
 * with their payloads (0: none).
 */
export function checkEvents(source: RecordSource, from: number, check: Validator | EventRules, samples: number): CheckResult {
  const rules: EventRules = typeof check === 'function' ? { validate: check } : check;
  const one = rules.validate;
  const byVersion = rules.byVersion;
  const opKey = rules.operationKey;
  // Sampling keeps payloads, which only a parsed event has.
  const fast = samples === 0 ? rules.fast : undefined;
  let passed = 0;
  let failure: EventFailure | undefined;
  idList.take();
  opList.take();
  const sampled: NonNullable<CheckResult['samples']> = [];
  const onRecord = (r: KafkaRecord): void => {
    if (failure) return;
    if (r.value === null) {
      failure = { offset: r.offset, tombstone: true };
      return;
    }
    if (fast?.scan(r.value)) {
      // Hashed from the bytes where they are ASCII strings (nearly always), else from the text.
      if (!idList.pushHashed(fast.hashEventId, r.value, r.offset)) {
        const id = fast.eventId(r.value);
        if (id !== undefined) idList.push(id, r.offset);
      }
      if (opKey && !opList.pushHashed(fast.hashOperation, r.value, r.offset)) opList.push(fast.operationText(r.value), r.offset);
      passed += 1;
      return;
    }
    let event: unknown;
    try {
      event = JSON.parse(r.value.toString('utf8'));
    } catch {
      failure = { offset: r.offset, notJson: true };
      return;
    }
    let validate = one;
    let version: number | undefined;
    if (byVersion) {
      const e = event as { event_name?: unknown; event_version?: unknown } | null;
      const v = e?.event_version;
      validate = e?.event_name === byVersion.event && typeof v === 'number' ? byVersion.validators.get(v) : undefined;
      if (!validate) {
        failure = { offset: r.offset, unexpected: whatEventIs(event) };
        return;
      }
      version = v as number;
    }
    const issues = (validate as Validator)(event);
    if (issues.length) {
      failure = { offset: r.offset, issues: issues.slice(0, 1), more: issues.length - 1, ...(version !== undefined ? { version } : {}) };
      return;
    }
    let operation: string | undefined;
    if (opKey) {
      const values = operationValues(event, opKey);
      if (!Array.isArray(values)) {
        failure = { offset: r.offset, noOperation: values.missing };
        return;
      }
      operation = operationText(values);
    }
    const id = (event as { event_id?: unknown }).event_id;
    if (typeof id === 'string') idList.push(id, r.offset);
    if (operation !== undefined) opList.push(operation, r.offset);
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
  const ids = idList.take();
  const ops = opKey ? opList.take() : undefined;
  return { passed, hashes: ids.hashes, offsets: ids.offsets, failure, ...(sampled.length ? { samples: sampled } : {}), ...(ops ? { ops } : {}) };
}

/** The record at `offset`, parsed, when its value is JSON. */
export function eventAt(source: RecordSource, offset: number): unknown {
  let event: unknown;
  let found = false;
  source((r) => {
    if (r.offset !== offset || found) return;
    found = true;
    try {
      event = JSON.parse(r.value?.toString('utf8') ?? 'null');
    } catch {
      // not JSON: nothing
    }
  });
  return event;
}

/** The event_id of the record at `offset`, when it is JSON with a string event_id. */
export function eventIdAt(source: RecordSource, offset: number): string | undefined {
  return eventIdOf(eventAt(source, offset));
}

/** An event's event_id, when it is a string. */
export function eventIdOf(event: unknown): string | undefined {
  const id = (event as { event_id?: unknown } | null | undefined)?.event_id;
  return typeof id === 'string' ? id : undefined;
}

/** The re-readers of CheckedRecords over one partition's records. */
export function rereaders(records: RecordSource): Pick<CheckedRecords, 'eventId' | 'eventAt'> {
  return { eventId: (offset) => eventIdAt(records, offset), eventAt: (offset) => eventAt(records, offset) };
}

/** Checks a chunk on the calling thread: what a worker of CheckPool answers for it. */
export function checkChunk(chunk: RecordChunk, check: Validator | EventRules, samples: number): CheckedRecords {
  const records = chunkRecords(chunk);
  return { ...checkEvents(chunkRecords(chunk, samples > 0), chunk.from, check, samples), partition: chunk.partition, ...rereaders(records) };
}

/** Checks one record already decoded (a reader without chunks). */
export function checkRecord(r: KafkaRecord, check: Validator | EventRules, samples: number): CheckedRecords {
  const records: RecordSource = (onRecord) => onRecord(r);
  return { ...checkEvents(records, r.offset, check, samples), partition: r.partition, ...rereaders(records) };
}
