import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatProblem } from '../../src/errors.js';
import { compileEventSchema, lintSchema } from '../../src/schema/lint.js';
import { JsonPositions } from '../../src/util/json.js';

const read = (rel: string) => readFileSync(new URL(rel, import.meta.url), 'utf8');
const seedText = read('../fixtures/seed-ExerciseCompleted.json');
const fixedText = read('../../examples/schemas/ExerciseCompleted/0.json');

const envelopeProps = `"event_id": { "type": "string" },
    "event_version": { "const": 1 },
    "event_name": { "const": "E" },
    "produced_at": { "type": "string", "format": "date-time" }`;
const required = `"required": ["event_id", "event_version", "event_name", "produced_at", "payload"]`;

/** An event schema with the envelope; `payload` is the payload property's schema text. */
const eventSchema = (dollarSchema: string | undefined, payload: string, extra = '') => `{
  ${dollarSchema === undefined ? '' : `"$schema": "${dollarSchema}",`}
  "type": "object",${extra}
  "properties": {
    ${envelopeProps},
    "payload": ${payload}
  },
  ${required}
}
`;

async function lint(text: string, file = 's.json'): Promise<string[]> {
  return (await lintSchema(file, text)).problems.map(formatProblem);
}

/** The 1-based line:col of the first occurrence of `needle` in `text`. */
function whereIs(text: string, needle: string): string {
  const offset = text.indexOf(needle);
  if (offset < 0) throw new Error(`${needle} not in text`);
  const before = text.slice(0, offset);
  return `${before.split('\n').length}:${offset - before.lastIndexOf('\n')}`;
}

describe('lintSchema', () => {
  it("the seed's schema as written: the trailing comma, at the comma itself", async () => {
    const comma = whereIs(seedText, '{ "type": "string" },\n      }');
    const [line, col] = comma.split(':').map(Number) as [number, number];
    expect(await lint(seedText, 'seed.json')).toEqual([`seed.json:${line}:${col + 20}: not valid JSON: trailing comma before "}"`]);
    expect(`${line}:${col + 20}`).toBe('15:54');
  });

  it('the fixed seed schema is a valid draft-04 event schema', async () => {
    const r = await lintSchema('0.json', fixedText);
    expect(r.problems).toEqual([]);
    expect(r.dialect).toBe('draft-04');
    expect(r.schema?.title).toBe('ExerciseCompleted');
  });

  it('a type that is not a type, at the line:col of its value', async () => {
    const text = fixedText.replace('"title":                 { "type": "string" }', '"title":                 { "type": "strin" }');
    expect(await lint(text)).toEqual([
      `s.json:${whereIs(text, '"strin"')}: invalid draft-04 schema: /definitions/payload/properties/title/type must be one of array, boolean, integer, null, number, object, string (found "strin")`,
    ]);
  });

  it('draft-07 (also without $schema, and with the https spelling) and 2020-12 schemas', async () => {
    const payload07 = '{ "$ref": "#/definitions/p" }';
    const defs07 = '\n  "definitions": { "p": { "type": "object", "properties": { "x": { "type": "integer", "minimum": 0 } }, "required": ["x"] } },';
    for (const uri of ['http://json-schema.org/draft-07/schema#', 'https://json-schema.org/draft-07/schema', undefined]) {
      const r = await lintSchema('s.json', eventSchema(uri, payload07, defs07));
      expect(r.problems, String(uri)).toEqual([]);
      expect(r.dialect).toBe('draft-07');
    }
    const defs2020 = '\n  "$defs": { "p": { "type": "object", "prefixItems": [{ "type": "string" }], "properties": { "tags": { "type": "array", "items": { "type": "string" } } } } },';
    const r = await lintSchema('s.json', eventSchema('https://json-schema.org/draft/2020-12/schema', '{ "$ref": "#/$defs/p" }', defs2020));
    expect(r.problems).toEqual([]);
    expect(r.dialect).toBe('2020-12');
  });

  it('a 2020-12 keyword misused, located', async () => {
    const text = eventSchema('https://json-schema.org/draft/2020-12/schema', '{ "type": "object", "minProperties": -1 }');
    expect(await lint(text)).toEqual([
      `s.json:${whereIs(text, '-1 }')}: invalid 2020-12 schema: /properties/payload/minProperties must be >= 0 (found -1)`,
    ]);
  });

  it('an unknown $schema', async () => {
    const text = eventSchema('http://example.com/my-dialect', '{}');
    expect(await lint(text)).toEqual([`s.json:${whereIs(text, '"http://example.com')}: unknown $schema "http://example.com/my-dialect"; known: the json-schema.org URIs of draft-04, draft-06, draft-07, 2019-09 and 2020-12`]);
  });

  it('the envelope: located at "properties" and "required"', async () => {
    const text = `{
  "type": "object",
  "properties": {
    "event_id": { "type": "string" },
    "payload": { "type": "object" }
  },
  "required": ["event_id"]
}`;
    expect(await lint(text)).toEqual([
      's.json:3:3: the event envelope lacks event_version, event_name, produced_at in "properties"',
      's.json:7:3: "required" does not list event_version, event_name, produced_at, payload of the event envelope',
    ]);
    expect(await lint('{ "type": "object" }')).toEqual([
      's.json:1:1: the event envelope is missing: no "properties" (expected event_id, event_version, event_name, produced_at, payload)',
      's.json:1:1: the event envelope is not required: no "required" (expected event_id, event_version, event_name, produced_at, payload)',
    ]);
  });

  it('a local $ref to nothing, at the $ref', async () => {
    const text = fixedText.replace('"#/definitions/payload"', '"#/definitions/paylod"');
    expect(await lint(text)).toEqual([`s.json:${whereIs(text, '"#/definitions/paylod"')}: $ref "#/definitions/paylod" points to nothing in this file`]);
  });

  it('a schema that does not compile (a $ref to another document)', async () => {
    const text = eventSchema('http://json-schema.org/draft-07/schema#', '{ "$ref": "https://example.com/payload.json" }');
    expect(await lint(text)).toEqual([
      `s.json:${whereIs(text, '"https://example.com')}: does not compile: can't resolve reference https://example.com/payload.json from id #`,
    ]);
  });

  it('patterns that are not regular expressions and formats nothing checks', async () => {
    const text = eventSchema('http://json-schema.org/draft-07/schema#', '{ "type": "object", "properties": { "a": { "type": "string", "pattern": "([a-z]" }, "b": { "format": "date_time" } }, "patternProperties": { "x(": {} } }');
    const problems = await lint(text);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(new RegExp(`^s\\.json:${whereIs(text, '"([a-z]"')}: pattern is not a valid regular expression`));
    expect(problems[1]).toMatch(new RegExp(`^s\\.json:${whereIs(text, '"date_time"')}: unknown format "date_time"; known: date, time, date-time`));
    expect(problems[2]).toMatch(new RegExp(`^s\\.json:${whereIs(text, '"x("')}: patternProperties key is not a valid regular expression`));
  });

  it('property names that look like keywords are names', async () => {
    const text = eventSchema(undefined, '{ "type": "object", "properties": { "format": { "type": "string" }, "enum": { "type": "string", "format": "email" }, "pattern": { "type": "string" } } }');
    expect(await lint(text)).toEqual([]);
  });

  it('a document that is not an object, and a byte-order mark', async () => {
    expect(await lint('[1, 2]')).toEqual(['s.json:1:1: an event schema must be a JSON object']);
    expect(await lint('\uFEFF' + fixedText)).toEqual([]);
  });

  it('two versions with the same id compile side by side', async () => {
    const withId = (t: string) => ({ ...(JSON.parse(fixedText) as Record<string, unknown>), id: 'urn:ExerciseCompleted', title: t });
    const v0 = await compileEventSchema(withId('v0'));
    const v1 = await compileEventSchema(withId('v1'));
    expect(v0({})).not.toEqual([]);
    expect(v1({})).not.toEqual([]);
  });
});

describe('JsonPositions', () => {
  const text = '{\n  "a": [1, {"b~c/d": "x"}],\n  "e": { },\n  "a2": "\\"q\\\\"\n}';
  const pos = JsonPositions.of(text);
  it('maps every pointer to where its value starts', () => {
    expect([...pos.pointers()]).toEqual(['', '/a', '/a/0', '/a/1', '/a/1/b~0c~1d', '/e', '/a2']);
    expect(pos.value('')).toEqual({ line: 1, col: 1 });
    expect(pos.value('/a')).toEqual({ line: 2, col: 8 });
    expect(pos.value('/a/1/b~0c~1d')).toEqual({ line: 2, col: 22 });
    expect(pos.value('/a2')).toEqual({ line: 4, col: 9 });
  });
  it('knows where member names are', () => {
    expect(pos.key('/e')).toEqual({ line: 3, col: 3 });
    expect(pos.key('/a/1')).toEqual(pos.value('/a/1'));
  });
  it('falls back to the nearest ancestor', () => {
    expect(pos.has('/e/missing')).toBe(false);
    expect(pos.value('/e/missing/deeper')).toEqual(pos.value('/e'));
  });
  it('keeps the last of duplicate names, as JSON.parse does', () => {
    expect(JsonPositions.of('{"k": 1, "k": 2}').value('/k')).toEqual({ line: 1, col: 15 });
  });
});
