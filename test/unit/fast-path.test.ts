// kafka.verify's fast path (src/verify/fast-path.ts) against JSON.parse + ajv, over many generated
// and mutated events: whenever the scanner says "valid", ajv says valid on what JSON.parse makes of
// the same bytes, with the same event_id and operation text; and checkEvents answers exactly the
// same with the fast path as without it, whatever the event (the fast path's "undecided" hands the
// event to JSON.parse + ajv).
import { afterEach, describe, expect, it } from 'vitest';
import type { KafkaRecord } from '../../src/adapters/kafka.js';
import { checkEvents, compileRules, operationText, operationValues, type EventRules } from '../../src/verify/event-checks.js';
import { compileFastCheck } from '../../src/verify/fast-path.js';
// The reliability tests' seeded PRNG, so a failure names a case that comes back.
import { seededRandom as prng } from '../reliability/support.js';
import { exerciseCompletedSchema, exerciseEvent } from '../support/seed-schema.js';

const KEY = ['/payload/exercise_id', '/payload/candidate_id'];

const record = (value: Buffer): KafkaRecord => ({ partition: 0, offset: 7, key: null, value, timestamp: 0 });
const checkOne = (value: Buffer, rules: EventRules) => checkEvents((on) => on(record(value)), 7, rules, 0);
const comparable = (o: ReturnType<typeof checkOne>) => ({ ...o, hashes: [...o.hashes], offsets: [...o.offsets], ops: o.ops && { hashes: [...o.ops.hashes], offsets: [...o.ops.offsets] } });

/** Seed-schema events in the shapes producers write: compact, pretty, reordered, with extras and non-ASCII text. */
function baseEvents(random: () => number): string[] {
  const out: string[] = [];
  for (let i = 0; i < 40; i++) {
    const e = exerciseEvent(`ex-${i}`, `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`) as Record<string, unknown>;
    const payload = e.payload as Record<string, unknown>;
    if (i % 5 === 1) payload.title = `Übung ${i} — ✓ 𝄞`;
    if (i % 7 === 2) payload.extra = { nested: [1, 2.5e3, -0, true, null, { deep: ['x'] }], n: -12.75 };
    if (i % 6 === 3) e.trace = [{ a: 1 }, [], {}, 'x'];
    const entries = Object.entries(e);
    if (i % 4 === 2) entries.reverse();
    const text = JSON.stringify(Object.fromEntries(entries), null, i % 3 === 0 ? 2 : undefined);
    out.push(i % 8 === 5 ? ` \t\r\n${text}\n ` : text);
  }
  // The same in different spellings JSON allows.
  out.push('{"event_id":"a","event_version":0.0,"event_name":"ExerciseCompleted","produced_at":"t","payload":{"exercise_id":"e","title":"t","author_id":"a","candidate_id":"c","completed_at":"t"}}');
  out.push('{"event_id":"a","event_version":-0,"event_name":"ExerciseCompleted","produced_at":"t","payload":{"exercise_id":"e","title":"t","author_id":"a","candidate_id":"c","completed_at":"t"}}');
  out.push('{"event_id":"a","event_version":0e5,"event_name":"ExerciseCompleted","produced_at":"t","payload":{"exercise_id":"e","title":"t","author_id":"a","candidate_id":"c","completed_at":"t"}}');
  out.push('{"event_id":"a\\u00e9\\n\\"","event_version":0,"event_name":"Exercise\\u0043ompleted","produced_at":"\\/","payload":{"exercise_id":"\\ud83d\\ude00","title":"\\u0000","author_id":"a","candidate_id":"\\ud800","completed_at":"t"}}');
  out.push('{"event\\u005fid":"a","event_version":0,"event_name":"ExerciseCompleted","produced_at":"t","payload":{"exercise_id":"e","title":"t","author_id":"a","candidate_id":"c","completed_at":"t"}}');
  // Extracted strings that are not ASCII: hashed from their text, not their bytes.
  out.push('{"event_id":"ü-1","event_version":0,"event_name":"ExerciseCompleted","produced_at":"t","payload":{"exercise_id":"e","title":"t","author_id":"a","candidate_id":"𝄞","completed_at":"t"}}');
  out.push('{"event_id":"a","event_version":0,"event_name":"ExerciseCompleted","produced_at":"t","payload":{"exercise_id":"é","title":"t","author_id":"a","candidate_id":"c","completed_at":"t"}}');
  // An escaped key that names a key already seen: JSON.parse keeps the last value.
  out.push('{"event_id":"a","event_version":0,"event_name":"ExerciseCompleted","produced_at":"t","event\\u005fversion":"0","payload":{"exercise_id":"e","title":"t","author_id":"a","candidate_id":"c","completed_at":"t"}}');
  out.push('{"event_id":"a","event_version":0,"event_name":"ExerciseCompleted","produced_at":"t","payload":{"exercise_id":"e","title":"t","author_id":"a","candidate_id":"c","completed_at":"t"},"event_\\u0069d":"b"}');
  out.push('{"event_id":"a","event_id":"b","event_version":0,"event_name":"ExerciseCompleted","produced_at":"t","payload":{"exercise_id":"e","title":"t","author_id":"a","candidate_id":"c","completed_at":"t"}}');
  out.push('{"event_id":"a","event_version":0,"event_name":"ExerciseCompleted","produced_at":"t","payload":{"exercise_id":"e","title":"t","author_id":"a","candidate_id":"c","candidate_id":7,"completed_at":"t"}}');
  out.push('{"event_id":"a","x":1,"x":2,"event_version":0,"event_name":"ExerciseCompleted","produced_at":"t","payload":{"exercise_id":"e","title":"t","author_id":"a","candidate_id":"c","completed_at":"t"}}');
  out.push('\ufeff{"event_id":"a","event_version":0,"event_name":"ExerciseCompleted","produced_at":"t","payload":{"exercise_id":"e","title":"t","author_id":"a","candidate_id":"c","completed_at":"t"}}');
  out.push(`{"event_id":"a","deep":${'['.repeat(200)}${']'.repeat(200)},"event_version":0,"event_name":"ExerciseCompleted","produced_at":"t","payload":{"exercise_id":"e","title":"t","author_id":"a","candidate_id":"c","completed_at":"t"}}`);
  out.push('{"event_id":7,"event_version":0,"event_name":"ExerciseCompleted","produced_at":"t","payload":{"exercise_id":"e","title":"t","author_id":"a","candidate_id":"c","completed_at":"t"}}');
  out.push('{"event_id":"a","event_version":0,"event_name":"ExerciseCompleted","produced_at":"t","payload":{"exercise_id":"e","title":"t","author_id":"a","completed_at":"t"}}');
  out.push('{"event_id":"a","event_version":0,"event_name":"ExerciseCompleted","produced_at":"t","payload":[]}');
  out.push('[]', '"x"', '0', 'null', '{}', '', '{"event_id":"a"} x', '{"a":1,}', '{"a":01}', '{"a":1.}', '{"a":.5}', '{"a":-}', '{"a":tru}', '{"a":"\t"}', '{"a":"\\x"}');
  while (out.length < 80) out.push(out[Math.floor(random() * 40)] as string);
  return out;
}

const TOKENS = ['"', '\\', ',', ':', '{', '}', '[', ']', ' ', '\n', '\u0001', '\u007f', 'é', '0', '-', '.', 'e', 'E', '+', 'u', 'n', 't', 'f', '1', '\\u0041', '\\"', '"x":1', '"event_id":"dup"', '"payload":{}', 'null', '"title":"\\u00e9"', '\ud83d', '\u2028'];

/** One mutation of an event's text: a byte changed, a range removed, a token inserted, the end cut off. */
function mutate(text: string | Buffer, random: () => number): Buffer {
  const bytes = Buffer.from(text);
  const at = Math.floor(random() * (bytes.length + 1));
  const token = Buffer.from(TOKENS[Math.floor(random() * TOKENS.length)] as string);
  switch (Math.floor(random() * 5)) {
    case 0:
      return Buffer.concat([bytes.subarray(0, at), token, bytes.subarray(at + 1)]);
    case 1:
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + Math.floor(random() * 8)))]);
    case 2:
      return Buffer.concat([bytes.subarray(0, at), token, bytes.subarray(at)]);
    case 3:
      return bytes.subarray(0, at);
    default: {
      // A byte that is no valid UTF-8 on its own.
      const out = Buffer.from(bytes);
      if (at < out.length) out[at] = 0x80 + Math.floor(random() * 0x7f);
      return out;
    }
  }
}

/** Every case: the base events, and mutations of them (one to three at a time). */
function cases(seed: number, count: number): Buffer[] {
  const random = prng(seed);
  const base = baseEvents(random);
  const out: Buffer[] = base.map((t) => Buffer.from(t));
  while (out.length < count) {
    let b: Buffer = Buffer.from(base[Math.floor(random() * base.length)] as string);
    const times = 1 + Math.floor(random() * 3);
    for (let i = 0; i < times; i++) b = mutate(b, random);
    out.push(b);
  }
  return out;
}

/** Runs every case both ways; answers how many the fast path decided (said valid). */
function differential(rules: EventRules, values: Buffer[]): { decided: number; valid: number } {
  const fast = rules.fast;
  if (!fast) throw new Error('no fast path compiled');
  const slow = { ...rules, fast: undefined };
  let decided = 0;
  let valid = 0;
  for (const value of values) {
    const full = checkOne(value, slow);
    if (!full.failure) valid += 1;
    const label = JSON.stringify(value.toString('utf8'));
    if (fast.scan(value)) {
      decided += 1;
      // "valid" only where JSON.parse + ajv say valid, with the same extracts.
      const event = JSON.parse(value.toString('utf8')) as { event_id?: unknown };
      expect(rules.validate?.(event), label).toEqual([]);
      expect(fast.eventId(value), label).toBe(typeof event.event_id === 'string' ? event.event_id : undefined);
      if (rules.operationKey) expect(fast.operationText(value), label).toBe(operationText(operationValues(event, rules.operationKey) as unknown[]));
    }
    expect(comparable(checkOne(value, rules)), label).toEqual(comparable(full));
  }
  return { decided, valid };
}

describe('the fast path answers as JSON.parse + ajv', () => {
  it('seed schema with both duplicate checks: 6,000 generated and mutated events', async () => {
    const rules = await compileRules({ schema: exerciseCompletedSchema, operationKey: KEY });
    const { decided, valid } = differential(rules, cases(17, 6000));
    // Both paths are exercised: most valid events decided fast, the rest (and every invalid one) by ajv.
    expect(decided).toBeGreaterThan(300);
    expect(valid).toBeGreaterThan(decided);
  });

  it('event_id only, another seed', async () => {
    const rules = await compileRules({ schema: exerciseCompletedSchema });
    expect(differential(rules, cases(4242, 3000)).decided).toBeGreaterThan(150);
  });

  // A schema of every keyword the scanner knows: types (one and several), integer, enums of each
  // kind, nested required, additionalProperties false, $defs; operationKey values that are no strings.
  const wide = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $defs: { amount: { type: 'object', required: ['value'], properties: { value: { type: 'integer' }, unit: { enum: ['g', 'kg', null, 1, true] } }, additionalProperties: false } },
    type: 'object',
    required: ['event_id', 'n', 'amount'],
    properties: {
      event_id: { type: ['string', 'null'] },
      n: { type: 'number' },
      flag: { type: 'boolean' },
      nothing: { type: 'null' },
      list: { type: 'array' },
      amount: { $ref: '#/$defs/amount' },
      kind: { enum: ['a', 'b\n', 'é'] },
    },
  };
  const wideEvents = (random: () => number): string[] => {
    const values = ['"x"', '"é"', '"b\\n"', '"a"', '1', '-1.5', '1e2', '1E+2', '10.0', '0', 'true', 'false', 'null', '[]', '[1,{"a":[]}]', '{}', '{"value":3}', '1e400', '12345678901234567890'];
    const anyValue = () => values[Math.floor(random() * values.length)] as string;
    // Mostly a value of the right kind, so that many events are valid; sometimes any value.
    const pick = (...right: string[]) => (random() < 0.75 ? (right[Math.floor(random() * right.length)] as string) : anyValue());
    const out: string[] = [];
    for (let i = 0; i < 300; i++) {
      const unit = random() < 0.9 ? `,"unit":${pick('"g"', '"kg"', 'null', '1', 'true', '1.0', '"\\u0067"')}` : '';
      const fields = [
        `"event_id":${pick(`"id-${i}"`, `"id-\\u00e9-${i}"`, 'null')}`,
        `"n":${pick('1', '-1.5', '1e2', '0', '-0', '12345678901234567890', '1E+2')}`,
        `"amount":{"value":${pick('3', '-0', '10.0', '1e2', '1e400', '2.5')}${unit}${random() < 0.1 ? ',"other":1' : ''}}`,
      ];
      if (random() < 0.5) fields.push(`"flag":${pick('true', 'false')}`);
      if (random() < 0.3) fields.push(`"nothing":${pick('null')}`);
      if (random() < 0.3) fields.push(`"list":${pick('[]', '[1,{"a":[]}]')}`);
      if (random() < 0.5) fields.push(`"kind":${pick('"a"', '"b\\n"', '"é"', '"\\u00e9"')}`);
      if (random() < 0.3) fields.push(`"extra":${anyValue()}`);
      out.push(`{${fields.sort(() => random() - 0.5).join(',')}}`);
    }
    return out;
  };

  it('a schema of every keyword the scanner knows, operationKey values of each type', async () => {
    const rules = await compileRules({ schema: wide, operationKey: ['/amount/value', '/n', '/amount/unit'] });
    const random = prng(99);
    const base = wideEvents(random);
    const values = [...base.map((t) => Buffer.from(t)), ...Array.from({ length: 3000 }, () => mutate(base[Math.floor(random() * base.length)] as string, random))];
    const { decided, valid } = differential(rules, values);
    expect(decided).toBeGreaterThan(100);
    expect(valid).toBeGreaterThan(decided);
  });
});

describe('compileFastCheck', () => {
  it('has no fast path for a schema with a keyword it does not know', () => {
    for (const schema of [
      { type: 'object', properties: { event_id: { type: 'string', format: 'uuid' } } },
      { type: 'object', properties: { n: { type: 'number', minimum: 0 } } },
      { type: 'object', properties: { a: { $ref: '#/definitions/missing' } } },
      { type: 'object', properties: { a: { $ref: '#/definitions/x', type: 'string' } }, definitions: { x: {} } },
      { type: 'object', properties: { constructor: { type: 'string' } } },
      { type: 'object', additionalProperties: { type: 'string' } },
      { type: 'object', properties: { e: { enum: [{ a: 1 }] } } },
      { type: 'object', properties: { a: { $ref: '#/definitions/x' } }, definitions: { x: { $id: 'http://example.com/x', type: 'object', properties: { b: { $ref: '#/definitions/y' } } } } },
    ]) {
      expect(compileFastCheck(schema, undefined), JSON.stringify(schema)).toBeUndefined();
    }
    expect(compileFastCheck(exerciseCompletedSchema, undefined)).toBeDefined();
  });

  afterEach(() => {
    delete process.env.MIGRATE_VERIFY_FAST;
  });

  it('MIGRATE_VERIFY_FAST=0 turns it off', async () => {
    expect((await compileRules({ schema: exerciseCompletedSchema })).fast).toBeDefined();
    process.env.MIGRATE_VERIFY_FAST = '0';
    expect((await compileRules({ schema: exerciseCompletedSchema })).fast).toBeUndefined();
  });
});
