import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkBackwardCompatible } from '../../src/schema/compat.js';

type Schema = Record<string, unknown>;

const seed = (): Schema => JSON.parse(readFileSync(new URL('../../examples/schemas/ExerciseCompleted/0.json', import.meta.url), 'utf8')) as Schema;

/** A copy of the seed schema with `edit` applied to it. */
function seedWith(edit: (s: Schema & { definitions: { payload: Schema & { properties: Schema; required: string[] } }; properties: Schema }) => void): Schema {
  const s = seed();
  edit(s as Parameters<typeof edit>[0]);
  return s;
}

/** An object schema with the given properties (and extra keywords). */
const obj = (properties: Schema, extra: Schema = {}): Schema => ({ type: 'object', properties, ...extra });

describe('checkBackwardCompatible', () => {
  it('a schema is compatible with itself', () => {
    expect(checkBackwardCompatible(seed(), seed())).toEqual([]);
  });

  describe('the envelope discriminators', () => {
    it('ignores a changed const/enum on event_version and event_name', () => {
      const v1 = seedWith((s) => {
        s.properties.event_version = { enum: [1] };
        s.properties.event_name = { const: 'ExerciseCompletedV2' };
      });
      expect(checkBackwardCompatible(seed(), v1)).toEqual([]);
    });
    it('still compares their type', () => {
      const old = obj({ event_version: { type: 'integer', enum: [0] } });
      const next = obj({ event_version: { type: 'string', enum: ['1'] } });
      expect(checkBackwardCompatible(old, next)).toEqual(['event_version: type changed from integer to string']);
    });
    it('only at the root: a payload field of that name is an ordinary field', () => {
      const old = obj({ payload: obj({ event_version: { enum: [0, 1] } }) });
      const next = obj({ payload: obj({ event_version: { enum: [1] } }) });
      expect(checkBackwardCompatible(old, next)).toEqual(['payload.event_version: enum lost 0']);
    });
  });

  describe('required', () => {
    it('a newly required property is incompatible (inside a $ref)', () => {
      const v1 = seedWith((s) => {
        s.definitions.payload.properties.score = { type: 'integer' };
        s.definitions.payload.required.push('score');
      });
      expect(checkBackwardCompatible(seed(), v1)).toEqual(['payload.score: newly required']);
    });
    it('a new optional property is compatible', () => {
      const v1 = seedWith((s) => {
        s.definitions.payload.properties.score = { type: 'integer' };
      });
      expect(checkBackwardCompatible(seed(), v1)).toEqual([]);
    });
    it('a property no longer required is compatible', () => {
      const v1 = seedWith((s) => {
        s.definitions.payload.required = s.definitions.payload.required.filter((r) => r !== 'title');
      });
      expect(checkBackwardCompatible(seed(), v1)).toEqual([]);
    });
    it('requiring a property that was already there but optional is incompatible', () => {
      expect(checkBackwardCompatible(obj({ a: { type: 'string' } }), obj({ a: { type: 'string' } }, { required: ['a'] }))).toEqual([
        'a: newly required',
      ]);
    });
  });

  describe('type', () => {
    it('a changed type names the path and both types', () => {
      const v1 = seedWith((s) => {
        s.definitions.payload.properties.title = { type: 'integer' };
      });
      expect(checkBackwardCompatible(seed(), v1)).toEqual(['payload.title: type changed from string to integer']);
    });
    it('number -> integer narrows; integer -> number widens', () => {
      expect(checkBackwardCompatible(obj({ n: { type: 'number' } }), obj({ n: { type: 'integer' } }))).toEqual([
        'n: type narrowed from number to integer',
      ]);
      expect(checkBackwardCompatible(obj({ n: { type: 'integer' } }), obj({ n: { type: 'number' } }))).toEqual([]);
    });
    it('dropping a type from a list narrows; adding one widens', () => {
      expect(checkBackwardCompatible(obj({ s: { type: ['string', 'null'] } }), obj({ s: { type: 'string' } }))).toEqual([
        's: type narrowed from [string, null] to string',
      ]);
      expect(checkBackwardCompatible(obj({ s: { type: 'string' } }), obj({ s: { type: ['string', 'null'] } }))).toEqual([]);
    });
    it('a type where there was none restricts', () => {
      expect(checkBackwardCompatible(obj({ x: {} }), obj({ x: { type: 'string' } }))).toEqual(['x: type restricted from any to string']);
    });
    it('an old enum counts by the types of its values', () => {
      expect(checkBackwardCompatible(obj({ x: { enum: [1, 2] } }), obj({ x: { type: 'number' } }))).toEqual([]);
      expect(checkBackwardCompatible(obj({ x: { enum: [1, 'a'] } }), obj({ x: { type: 'integer' } }))).toEqual([
        'x: type narrowed from [integer, string] to integer',
      ]);
    });
    it('the root type too', () => {
      expect(checkBackwardCompatible({ type: 'object' }, { type: 'array' })).toEqual(['(root): type changed from object to array']);
    });
  });

  describe('enum and const', () => {
    it('an enum losing values is incompatible; gaining values is compatible', () => {
      const old = obj({ status: { enum: ['a', 'b', 'c'] } });
      expect(checkBackwardCompatible(old, obj({ status: { enum: ['a', 'c'] } }))).toEqual(['status: enum lost "b"']);
      expect(checkBackwardCompatible(old, obj({ status: { enum: ['a', 'b', 'c', 'd'] } }))).toEqual([]);
    });
    it('an enum where there was none restricts', () => {
      expect(checkBackwardCompatible(obj({ s: { type: 'string' } }), obj({ s: { type: 'string', enum: ['x'] } }))).toEqual([
        's: enum added: only "x" accepted',
      ]);
    });
    it('a changed const is incompatible; const -> an enum containing it is compatible', () => {
      expect(checkBackwardCompatible(obj({ k: { const: 1 } }), obj({ k: { const: 2 } }))).toEqual(['k: const changed from 1 to 2']);
      expect(checkBackwardCompatible(obj({ k: { const: 1 } }), obj({ k: { enum: [1, 2] } }))).toEqual([]);
    });
    it('compares values structurally', () => {
      expect(checkBackwardCompatible(obj({ k: { enum: [{ a: 1, b: 2 }] } }), obj({ k: { enum: [{ b: 2, a: 1 }] } }))).toEqual([]);
    });
    it('old values are judged against the new bounds', () => {
      expect(checkBackwardCompatible(obj({ c: { enum: ['ab', 'abcd'] } }), obj({ c: { enum: ['ab', 'abcd'], maxLength: 3 } }))).toEqual([
        'c: maxLength 3 rejects the old value "abcd"',
      ]);
      expect(checkBackwardCompatible(obj({ n: { enum: [1, 5] } }), obj({ n: { minimum: 1 } }))).toEqual([]);
    });
  });

  describe('additionalProperties', () => {
    it('adding additionalProperties: false is incompatible', () => {
      const v1 = seedWith((s) => {
        s.definitions.payload.additionalProperties = false;
      });
      expect(checkBackwardCompatible(seed(), v1)).toEqual(['payload: additionalProperties: false added']);
    });
    it('removing a property while additionalProperties is false is incompatible', () => {
      const old = obj({ a: { type: 'string' }, b: { type: 'string' } }, { additionalProperties: false });
      const next = obj({ a: { type: 'string' } }, { additionalProperties: false });
      expect(checkBackwardCompatible(old, next)).toEqual(['b: property removed while additionalProperties is false']);
    });
    it('removing a property of an open object is compatible', () => {
      expect(checkBackwardCompatible(obj({ a: { type: 'string' }, b: { type: 'string' } }), obj({ a: { type: 'string' } }))).toEqual([]);
    });
    it('a removed property must fit a new additionalProperties schema', () => {
      const old = obj({ a: { type: 'integer' } });
      expect(checkBackwardCompatible(old, obj({}, { additionalProperties: { type: 'string' } }))).toContain('a: type changed from integer to string');
    });
    it('a new property must fit the old additionalProperties schema', () => {
      const old = obj({}, { additionalProperties: { type: 'string' } });
      expect(checkBackwardCompatible(old, obj({ x: { type: 'integer' } }, { additionalProperties: { type: 'string' } }))).toEqual([
        'x: type changed from string to integer',
      ]);
    });
    it('removing additionalProperties: false is compatible', () => {
      expect(checkBackwardCompatible(obj({ a: {} }, { additionalProperties: false }), obj({ a: {} }))).toEqual([]);
    });
    it('a new pattern property applies to the declared properties it matches', () => {
      const old = obj({ x_a: { type: 'string' } });
      const next = obj({ x_a: { type: 'string' } }, { patternProperties: { '^x_': { type: 'integer' } } });
      expect(checkBackwardCompatible(old, next)).toEqual(['x_a: type changed from string to integer']);
    });
  });

  describe('arrays', () => {
    it('recurses into items', () => {
      const old = obj({ tags: { type: 'array', items: { type: 'string' } } });
      const next = obj({ tags: { type: 'array', items: { type: 'integer' } } });
      expect(checkBackwardCompatible(old, next)).toEqual(['tags[]: type changed from string to integer']);
    });
    it('items where there were none restrict', () => {
      expect(checkBackwardCompatible(obj({ l: { type: 'array' } }), obj({ l: { type: 'array', items: { type: 'string' } } }))).toEqual([
        'l[]: type restricted from any to string',
      ]);
    });
    it('recurses into object items', () => {
      const old = obj({ rows: { type: 'array', items: obj({ id: { type: 'string' } }) } });
      const next = obj({ rows: { type: 'array', items: obj({ id: { type: 'string' } }, { required: ['id'] }) } });
      expect(checkBackwardCompatible(old, next)).toEqual(['rows[].id: newly required']);
    });
    it('compares tuples position by position (draft-07 items array and 2020-12 prefixItems)', () => {
      const old = obj({ p: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }] } });
      const next = obj({ p: { type: 'array', items: [{ type: 'string' }, { type: 'string' }], additionalItems: false } });
      expect(checkBackwardCompatible(old, next)).toEqual(['p[1]: type changed from integer to string', 'p[]: no longer accepts any value']);
      const old2 = obj({ p: { type: 'array', prefixItems: [{ type: 'string' }] } });
      const next2 = obj({ p: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] } });
      expect(checkBackwardCompatible(old2, next2)).toEqual(['p[1]: type restricted from any to number']);
    });
    it('minItems raised, maxItems lowered, uniqueItems added', () => {
      const old = obj({ l: { type: 'array', minItems: 1, maxItems: 10 } });
      const next = obj({ l: { type: 'array', minItems: 2, maxItems: 5, uniqueItems: true } });
      expect(checkBackwardCompatible(old, next)).toEqual(['l: minItems raised from 1 to 2', 'l: maxItems lowered from 10 to 5', 'l: uniqueItems added']);
    });
  });

  describe('local $ref', () => {
    it('follows #/definitions and #/$defs on each side against its own root', () => {
      const old = { $defs: { p: obj({ a: { type: 'string' } }) }, ...obj({ payload: { $ref: '#/$defs/p' } }) };
      const inline = obj({ payload: obj({ a: { type: 'string' } }) });
      expect(checkBackwardCompatible(old, inline)).toEqual([]);
      const changed = { definitions: { q: obj({ a: { type: 'boolean' } }) }, ...obj({ payload: { $ref: '#/definitions/q' } }) };
      expect(checkBackwardCompatible(old, changed)).toEqual(['payload.a: type changed from string to boolean']);
    });
    it('ends on recursive schemas', () => {
      const tree = (leaf: string): Schema => ({
        definitions: { node: obj({ value: { type: leaf }, children: { type: 'array', items: { $ref: '#/definitions/node' } } }) },
        $ref: '#/definitions/node',
      });
      expect(checkBackwardCompatible(tree('string'), tree('string'))).toEqual([]);
      // Reported where the recursion is first entered, then the cycle stops it.
      expect(checkBackwardCompatible(tree('string'), tree('integer'))).toEqual([
        'value: type changed from string to integer',
        'children[].value: type changed from string to integer',
      ]);
      const self = (t: string): Schema => obj({ v: { type: t }, next: { $ref: '#' } });
      expect(checkBackwardCompatible(self('string'), self('string'))).toEqual([]);
    });
    it('a ref it cannot follow is reported unless both sides name the same one', () => {
      const remote = (ref: string) => obj({ p: { $ref: ref } });
      expect(checkBackwardCompatible(remote('http://x/a.json'), remote('http://x/a.json'))).toEqual([]);
      expect(checkBackwardCompatible(remote('http://x/a.json'), remote('http://x/b.json'))).toEqual([
        'p: $ref "http://x/b.json" cannot be followed (only "#/..." refs within the file are); check by hand',
      ]);
    });
    it('folds allOf', () => {
      const old = { definitions: { base: obj({ id: { type: 'string' } }) }, allOf: [{ $ref: '#/definitions/base' }] };
      const next = { definitions: { base: obj({ id: { type: 'string' } }) }, allOf: [{ $ref: '#/definitions/base' }, { required: ['id'] }] };
      expect(checkBackwardCompatible(old, next)).toEqual(['id: newly required']);
    });
  });

  describe('bounds and formats', () => {
    it('reports tightened bounds, accepts relaxed ones', () => {
      const old = obj({ s: { type: 'string', maxLength: 100, minLength: 1 }, n: { type: 'number', minimum: 0, maximum: 10 } });
      const tighter = obj({ s: { type: 'string', maxLength: 50, minLength: 2 }, n: { type: 'number', minimum: 1, maximum: 9 } });
      expect(checkBackwardCompatible(old, tighter)).toEqual([
        's: minLength raised from 1 to 2',
        's: maxLength lowered from 100 to 50',
        'n: minimum raised from >= 0 to >= 1',
        'n: maximum lowered from <= 10 to <= 9',
      ]);
      expect(checkBackwardCompatible(tighter, old)).toEqual([]);
    });
    it("understands draft-04's boolean exclusiveMinimum and draft-06's numeric one", () => {
      expect(checkBackwardCompatible(obj({ n: { minimum: 0 } }), obj({ n: { minimum: 0, exclusiveMinimum: true } }))).toEqual([
        'n: minimum raised from >= 0 to > 0',
      ]);
      expect(checkBackwardCompatible(obj({ n: { exclusiveMinimum: 0 } }), obj({ n: { minimum: 1 } }))).toEqual(['n: minimum raised from > 0 to >= 1']);
      expect(checkBackwardCompatible(obj({ n: { exclusiveMaximum: 5 } }), obj({ n: { maximum: 5 } }))).toEqual([]);
    });
    it('a format, pattern or multipleOf added or changed restricts', () => {
      expect(checkBackwardCompatible(obj({ t: { type: 'string' } }), obj({ t: { type: 'string', format: 'date-time' } }))).toEqual([
        't: format added: date-time',
      ]);
      expect(checkBackwardCompatible(obj({ t: { pattern: '^a' } }), obj({ t: { pattern: '^ab' } }))).toEqual(['t: pattern changed from /^a/ to /^ab/']);
      expect(checkBackwardCompatible(obj({ n: { multipleOf: 4 } }), obj({ n: { multipleOf: 2 } }))).toEqual([]);
      expect(checkBackwardCompatible(obj({ n: { multipleOf: 2 } }), obj({ n: { multipleOf: 4 } }))).toEqual(['n: multipleOf changed from 2 to 4']);
    });
  });

  describe('anyOf / oneOf', () => {
    it('adding an alternative is compatible', () => {
      expect(checkBackwardCompatible(obj({ s: { type: 'string' } }), obj({ s: { anyOf: [{ type: 'string' }, { type: 'null' }] } }))).toEqual([]);
    });
    it('removing an alternative is incompatible', () => {
      const reasons = checkBackwardCompatible(obj({ s: { oneOf: [{ type: 'string' }, { type: 'null' }] } }), obj({ s: { type: 'string' } }));
      expect(reasons).toEqual(['s: type changed from null to string']);
    });
    it('each old alternative needs a new one that accepts it', () => {
      const old = obj({ s: { anyOf: [{ type: 'string' }, { type: 'integer' }] } });
      const next = obj({ s: { anyOf: [{ type: 'string' }, { type: 'boolean' }] } });
      expect(checkBackwardCompatible(old, next)).toEqual([
        's: no alternative of the new anyOf/oneOf accepts everything old alternative 2 allowed (closest: s: type changed from integer to string)',
      ]);
    });
  });

  describe('what it cannot judge', () => {
    it('reports an added or changed `not`, `if`, `propertyNames`, `dependencies`', () => {
      expect(checkBackwardCompatible(obj({}), { ...obj({}), not: { required: ['x'] } })).toEqual([
        '(root): "not" added; compatibility cannot be checked automatically',
      ]);
      expect(checkBackwardCompatible({ propertyNames: { maxLength: 5 } }, { propertyNames: { maxLength: 3 } })).toEqual([
        '(root): "propertyNames" changed; compatibility cannot be checked automatically',
      ]);
      expect(checkBackwardCompatible({ dependencies: { a: ['b'] } }, { dependencies: { a: ['b'] } })).toEqual([]);
    });
  });

  describe('boolean schemas and names', () => {
    it('a property that becomes false accepts nothing', () => {
      expect(checkBackwardCompatible(obj({ a: true }), obj({ a: false }))).toEqual(['a: no longer accepts any value']);
      expect(checkBackwardCompatible(obj({ a: false }), obj({ a: { type: 'string' } }))).toEqual([]);
    });
    it('quotes property names that are not identifiers', () => {
      expect(checkBackwardCompatible(obj({ p: obj({ 'a.b': { type: 'string' } }) }), obj({ p: obj({ 'a.b': { type: 'number' } }) }))).toEqual([
        'p["a.b"]: type changed from string to number',
      ]);
    });
    it('lists every reason once', () => {
      const v1 = seedWith((s) => {
        s.definitions.payload.properties.title = { type: 'integer' };
        s.definitions.payload.properties.author_id = { type: 'integer' };
        s.definitions.payload.required.push('score');
        s.definitions.payload.additionalProperties = false;
      });
      expect(checkBackwardCompatible(seed(), v1)).toEqual([
        'payload.score: newly required',
        'payload.title: type changed from string to integer',
        'payload.author_id: type changed from string to integer',
        'payload: additionalProperties: false added',
      ]);
    });
  });
});
