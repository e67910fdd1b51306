// kafka.verify's versions, operationKey and completeness in their pure parts: JSON Pointers into an
// event, checkEvents with each event against its own version's schema and its operation hashed,
// and the completeness contract's parser and matcher (src/verify/completeness.ts).
import { describe, expect, it } from 'vitest';
import type { KafkaRecord } from '../../src/adapters/kafka.js';
import { parsePointer, valueAt } from '../../src/util/json.js';
import { hashId, SeenIds } from '../../src/util/seen-ids.js';
import { missingOperations, parseOperations } from '../../src/verify/completeness.js';
import { checkEvents, compileRules, describeOperation, operationPointer, operationText, operationValues } from '../../src/verify/event-checks.js';
import { exerciseCompletedSchema, exerciseCompletedSchemaV1, exerciseEvent, exerciseEventV1, exerciseRecord } from '../support/seed-schema.js';

const record = (offset: number, value: unknown): KafkaRecord => ({ partition: 0, offset, key: null, value: Buffer.from(JSON.stringify(value)), timestamp: 0 });
const run = (values: unknown[], rules: Awaited<ReturnType<typeof compileRules>>) => checkEvents((on) => values.forEach((v, i) => on(record(i, v))), 0, rules, 0);
const both = () => compileRules({ versions: { event: 'ExerciseCompleted', schemas: [{ version: 0, schema: exerciseCompletedSchema }, { version: 1, schema: exerciseCompletedSchemaV1 }] } });
const KEY = ['/payload/exercise_id', '/payload/candidate_id'];

describe('JSON Pointers into an event', () => {
  it('parses and follows RFC 6901 pointers, ~1 and ~0 unescaped, array indexes', () => {
    expect(parsePointer('/payload/exercise_id')).toEqual(['payload', 'exercise_id']);
    expect(parsePointer('/a~1b/c~0d')).toEqual(['a/b', 'c~d']);
    expect(parsePointer('')).toEqual([]);
    for (const bad of ['payload/x', '/a~2', '/a~']) expect(parsePointer(bad)).toBeUndefined();
    const doc = { 'a/b': { 'c~d': 1 }, list: [{ id: 'x' }], nil: null, zero: 0 };
    expect(valueAt(doc, ['a/b', 'c~d'])).toBe(1);
    expect(valueAt(doc, ['list', '0', 'id'])).toBe('x');
    expect(valueAt(doc, ['list', '01', 'id'])).toBeUndefined();
    expect(valueAt(doc, ['nil'])).toBeNull();
    expect(valueAt(doc, ['zero'])).toBe(0);
    expect(valueAt(doc, ['missing', 'x'])).toBeUndefined();
    expect(valueAt(doc, ['toString'])).toBeUndefined(); // own members only
  });

  it('operationValues: the values in pointer order, or the first pointer that finds nothing', () => {
    const key = KEY.map(operationPointer);
    const e = exerciseEvent('ex-1');
    expect(operationValues(e, key)).toEqual(['ex-1', 'cand-ex-1']);
    expect(describeOperation(['ex-1', 'cand-ex-1'], key)).toBe('/payload/exercise_id "ex-1", /payload/candidate_id "cand-ex-1"');
    expect(operationValues({ payload: { exercise_id: 'ex-1' } }, key)).toEqual({ missing: '/payload/candidate_id' });
    expect(() => operationPointer('payload/x')).toThrow(/is not a JSON Pointer/);
  });
});

describe('checkEvents with versions', () => {
  it('checks each event against the schema of its own event_version', async () => {
    const rules = await both();
    expect(run([exerciseEvent('ex-1'), exerciseEventV1('ex-2'), exerciseEvent('ex-3')], rules)).toMatchObject({ passed: 3, failure: undefined });
    // Valid as v0 but labelled v1: v1 requires a score.
    const noScore = { ...exerciseEvent('ex-2'), event_version: 1 };
    expect(run([exerciseEvent('ex-1'), noScore], rules)).toMatchObject({ passed: 1, failure: { offset: 1, version: 1, issues: [{ path: '/payload' }] } });
    // Valid as v1 (author_id optional there) but labelled v0: v0 requires author_id.
    const { author_id: _gone, ...payload } = exerciseRecord('ex-1');
    expect(run([{ ...exerciseEvent('ex-1'), payload }], rules)).toMatchObject({ passed: 0, failure: { offset: 0, version: 0 } });
  });

  it('an event of another version or name fails as unexpected, naming what it is', async () => {
    const onlyV1 = await compileRules({ versions: { event: 'ExerciseCompleted', schemas: [{ version: 1, schema: exerciseCompletedSchemaV1 }] } });
    expect(run([exerciseEventV1('ex-1'), exerciseEvent('ex-2')], onlyV1).failure).toEqual({ offset: 1, unexpected: 'ExerciseCompleted v0' });
    expect(run([{ ...exerciseEventV1('ex-1'), event_version: '1' }], onlyV1).failure).toEqual({ offset: 0, unexpected: 'ExerciseCompleted without a numeric event_version ("1")' });
    expect(run([{ ...exerciseEventV1('ex-1'), event_name: 'Other' }], onlyV1).failure).toEqual({ offset: 0, unexpected: 'Other v1' });
  });
});

describe('checkEvents with an operationKey', () => {
  it('hashes each passed event\'s operation at its offset; off, there is no ops list', async () => {
    const rules = { ...(await both()), ...(await compileRules({ operationKey: KEY })) };
    const e0 = exerciseEvent('ex-1');
    const e1 = exerciseEventV1('ex-1');
    const o = run([e0, e1, exerciseEvent('ex-2')], rules);
    expect(o.passed).toBe(3);
    const expected = new Uint32Array(6);
    ['["ex-1","cand-ex-1"]', '["ex-1","cand-ex-1"]', '["ex-2","cand-ex-2"]'].forEach((t, i) => hashId(t, expected, 2 * i));
    expect([...(o.ops?.hashes ?? [])]).toEqual([...expected]);
    expect([...(o.ops?.offsets ?? [])]).toEqual([0, 1, 2]);
    expect(run([e0], await both()).ops).toBeUndefined();
  });

  it('an event without a value at a pointer fails, naming the pointer', async () => {
    const rules = await compileRules({ schema: { type: 'object' }, operationKey: KEY });
    expect(run([exerciseEvent('ex-1'), { event_id: 'x', payload: { exercise_id: 'ex-2' } }], rules)).toMatchObject({ passed: 1, failure: { offset: 1, noOperation: '/payload/candidate_id' } });
  });
});

describe('completeness', () => {
  it('parses the contract: a key of one value or an array of as many values as pointers', () => {
    expect(parseOperations('{"operations":[{"key":["ex-1","c-1"],"at":"2026-11-29T10:00:00Z"},{"key":["ex-2","c-2"]}]}', 2)).toEqual([
      { values: ['ex-1', 'c-1'], at: '2026-11-29T10:00:00Z' },
      { values: ['ex-2', 'c-2'] },
    ]);
    expect(parseOperations('{"operations":[{"key":"op-7"}]}', 1)).toEqual([{ values: ['op-7'] }]);
    expect(() => parseOperations('nope', 1)).toThrow('is not JSON');
    expect(() => parseOperations('{"ops":[]}', 1)).toThrow(/is not \{"operations"/);
    expect(() => parseOperations('{"operations":[{"key":null}]}', 1)).toThrow(/operations.0.key: key is required/);
    expect(() => parseOperations('{"operations":[{"key":["a"]}]}', 2)).toThrow('operations.0.key has 1 value(s), operationKey has 2 pointer(s)');
  });

  it('names each operation no event carried, once, in the source\'s order', async () => {
    const seen = new SeenIds();
    const h = new Uint32Array(2);
    for (const [i, values] of [['ex-1', 'c-1'], ['ex-3', 'c-3']].entries()) {
      hashId(operationText(values), h, 0);
      seen.addHash(h[0] as number, h[1] as number, 0, i);
    }
    const ops = [['ex-1', 'c-1'], ['ex-2', 'c-2'], ['ex-3', 'c-3'], ['ex-2', 'c-2'], ['ex-4', 'c-4']].map((values) => ({ values }));
    expect((await missingOperations(ops, (hashes) => seen.findAll(hashes))).map((o) => o.values)).toEqual([['ex-2', 'c-2'], ['ex-4', 'c-4']]);
    // The values' JSON types matter: 7 and "7" are two operations.
    hashId(operationText([7]), h, 0);
    seen.addHash(h[0] as number, h[1] as number, 0, 9);
    expect(await missingOperations([{ values: ['7'] }, { values: [7] }], (hashes) => seen.findAll(hashes))).toEqual([{ values: ['7'] }]);
  });
});
