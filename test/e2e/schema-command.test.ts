import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli, workdir } from '../support/cli.js';

// `migrate schema ...` as a user runs it: the built CLI as a subprocess. No broker needed.

const seedText = readFileSync(new URL('../fixtures/seed-ExerciseCompleted.json', import.meta.url), 'utf8');
const fixedText = readFileSync(new URL('../../examples/schemas/ExerciseCompleted/0.json', import.meta.url), 'utf8');

const envelope = {
  event_id: { type: 'string' },
  event_version: { const: 0 },
  event_name: { const: 'OrderPlaced' },
  produced_at: { type: 'string', format: 'date-time' },
};
const required = ['event_id', 'event_version', 'event_name', 'produced_at', 'payload'];
const draft07 = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  definitions: { payload: { type: 'object', properties: { amount: { type: 'number', minimum: 0 } }, required: ['amount'] } },
  properties: { ...envelope, payload: { $ref: '#/definitions/payload' } },
  required,
};
const draft2020 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: { payload: { type: 'object', properties: { lines: { type: 'array', items: { type: 'string' } } } } },
  properties: { ...envelope, payload: { $ref: '#/$defs/payload' } },
  required,
};

const event = (id: string, payload: Record<string, unknown>) =>
  JSON.stringify({ event_id: id, event_version: 0, event_name: 'ExerciseCompleted', produced_at: '2026-11-25T10:00:00Z', payload });
const goodPayload = { exercise_id: 'e1', title: 'Two sums', author_id: 'a1', candidate_id: 'c1', completed_at: '2026-11-25T09:59:00Z' };

/** The 1-based line:col of the first occurrence of `needle`. */
function whereIs(text: string, needle: string): string {
  const offset = text.indexOf(needle);
  const before = text.slice(0, offset);
  return `${before.split('\n').length}:${offset - before.lastIndexOf('\n')}`;
}

describe('migrate schema lint', () => {
  it("the seed's schema as written: exit 2, the trailing comma's line and column", async () => {
    const cwd = await workdir({ 'seed.json': seedText });
    const res = await runCli(['schema', 'lint', 'seed.json'], { cwd });
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('seed.json:15:54: not valid JSON: trailing comma before "}"\n');
    expect(seedText.split('\n')[14]?.[53]).toBe(',');
  });

  it('the fixed schema: exit 0', async () => {
    const cwd = await workdir({ '0.json': fixedText });
    const res = await runCli(['schema', 'lint', '0.json'], { cwd });
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('0.json: ok (draft-04)\n');
  });

  it('a misspelt type: exit 2 at its line:col', async () => {
    const text = fixedText.replace('"title":                 { "type": "string" }', '"title":                 { "type": "strin" }');
    const cwd = await workdir({ 'typo.json': text });
    const res = await runCli(['schema', 'lint', 'typo.json'], { cwd });
    expect(res.code).toBe(2);
    expect(res.stdout).toBe(
      `typo.json:${whereIs(text, '"strin"')}: invalid draft-04 schema: /definitions/payload/properties/title/type must be one of array, boolean, integer, null, number, object, string (found "strin")\n`,
    );
  });

  it('draft-07 and 2020-12 schemas; several files, --json', async () => {
    const cwd = await workdir({ 'd7.json': JSON.stringify(draft07, null, 2), 'd2020.json': JSON.stringify(draft2020, null, 2), 'seed.json': seedText });
    const ok = await runCli(['schema', 'lint', 'd7.json', 'd2020.json'], { cwd });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('d7.json: ok (draft-07)\nd2020.json: ok (2020-12)\n');

    const json = await runCli(['schema', 'lint', '--json', 'd7.json', 'seed.json', 'absent.json'], { cwd });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      ok: false,
      files: [
        { file: 'd7.json', ok: true, dialect: 'draft-07', problems: [] },
        { file: 'seed.json', ok: false, problems: [{ file: 'seed.json', line: 15, col: 54, message: 'not valid JSON: trailing comma before "}"' }] },
        { file: 'absent.json', ok: false, problems: [{ file: 'absent.json', message: 'cannot read: no such file' }] },
      ],
    });
  });
});

describe('migrate schema validate', () => {
  it('NDJSON with a bad event: exit 1, names the line and the instance path', async () => {
    const ndjson = [event('1', goodPayload), '', event('2', { ...goodPayload, title: 42 }), event('3', goodPayload)].join('\n') + '\n';
    const cwd = await workdir({ 'schema.json': fixedText, 'events.ndjson': ndjson });
    const res = await runCli(['schema', 'validate', 'schema.json', 'events.ndjson'], { cwd });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('events.ndjson:3: /payload/title: must be string\n3 events: 2 valid, 1 invalid\n');
  });

  it('all valid: exit 0; a pretty-printed JSON event is one document located by the offending line', async () => {
    const pretty = JSON.stringify(JSON.parse(event('9', { ...goodPayload, candidate_id: null })), null, 2);
    const cwd = await workdir({ 'schema.json': fixedText, 'ok.ndjson': event('1', goodPayload) + '\n', 'one.json': pretty });
    expect((await runCli(['schema', 'validate', 'schema.json', 'ok.ndjson'], { cwd })).code).toBe(0);
    const res = await runCli(['schema', 'validate', 'schema.json', 'one.json'], { cwd });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe(`one.json:${whereIs(pretty, 'null').split(':')[0]}: /payload/candidate_id: must be string\n1 event: 0 valid, 1 invalid\n`);
  });

  it('a line that is not JSON: exit 2 with file:line:col; --json prints one object', async () => {
    const ndjson = `${event('1', goodPayload)}\n{"event_id": "2", oops}\n${event('3', { ...goodPayload, title: 1 })}\n`;
    const cwd = await workdir({ 'schema.json': fixedText, 'events.ndjson': ndjson });
    const res = await runCli(['schema', 'validate', 'schema.json', 'events.ndjson'], { cwd });
    expect(res.code).toBe(2);
    expect(res.stdout.split('\n')).toContain('events.ndjson:2:19: not valid JSON: expected a property name in double quotes, found "o"');

    const json = await runCli(['schema', 'validate', '--json', 'schema.json', 'events.ndjson'], { cwd });
    expect(json.code).toBe(2);
    const out = JSON.parse(json.stdout);
    expect(out).toMatchObject({ ok: false, events: 2, valid: 1, invalid: 1, errors: [{ file: 'events.ndjson', line: 3, path: '/payload/title', message: 'must be string' }] });
    expect(out.problems).toEqual([{ file: 'events.ndjson', line: 2, col: 19, message: 'not valid JSON: expected a property name in double quotes, found "o"' }]);
  });

  it('a bad schema or an unreadable event file: exit 2 before validating', async () => {
    const cwd = await workdir({ 'seed.json': seedText, 'schema.json': fixedText, 'e.ndjson': event('1', goodPayload) });
    const bad = await runCli(['schema', 'validate', 'seed.json', 'e.ndjson'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: seed\.json:15:54: not valid JSON: trailing comma/);
    expect(bad.stdout).toBe('');
    const missing = await runCli(['schema', 'validate', 'schema.json', 'e.ndjson', 'nope.ndjson'], { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error: nope\.ndjson: cannot read: no such file/);
    expect(missing.stdout).toBe('');
  });

  it('a big NDJSON file streams through', async () => {
    const line = event('x', goodPayload);
    const lines = Array.from({ length: 20_000 }, (_, i) => (i === 19_999 ? event('last', { ...goodPayload, exercise_id: 7 }) : line));
    const cwd = await workdir({ 'schema.json': fixedText, 'big.ndjson': lines.join('\n') + '\n' });
    const res = await runCli(['schema', 'validate', 'schema.json', 'big.ndjson'], { cwd });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('big.ndjson:20000: /payload/exercise_id: must be string\n20000 events: 19999 valid, 1 invalid\n');
  });
});

describe('migrate schema compat', () => {
  const v1 = (edit: (s: { definitions: { payload: { properties: Record<string, unknown>; required: string[] } }; properties: Record<string, unknown> }) => void) => {
    const s = JSON.parse(fixedText);
    s.properties.event_version = { enum: [1] };
    edit(s);
    return JSON.stringify(s, null, 2);
  };

  it('compatible: exit 0', async () => {
    const cwd = await workdir({ '0.json': fixedText, '1.json': v1((s) => (s.definitions.payload.properties.score = { type: 'integer' })) });
    const res = await runCli(['schema', 'compat', '0.json', '1.json'], { cwd });
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('1.json is backward compatible with 0.json\n');
  });

  it('incompatible: exit 1 with every reason; --json', async () => {
    const next = v1((s) => {
      s.definitions.payload.properties.score = { type: 'integer' };
      s.definitions.payload.required.push('score');
      s.definitions.payload.properties.title = { type: 'integer' };
    });
    const cwd = await workdir({ '0.json': fixedText, '1.json': next });
    const res = await runCli(['schema', 'compat', '0.json', '1.json'], { cwd });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('1.json is not backward compatible with 0.json:\n  payload.score: newly required\n  payload.title: type changed from string to integer\n');
    const json = await runCli(['schema', 'compat', '--json', '0.json', '1.json'], { cwd });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      old: '0.json',
      new: '1.json',
      compatibility: 'BACKWARD',
      compatible: false,
      reasons: ['payload.score: newly required', 'payload.title: type changed from string to integer'],
    });
  });

  it('a schema that does not lint: exit 2', async () => {
    const cwd = await workdir({ '0.json': seedText, '1.json': fixedText });
    const res = await runCli(['schema', 'compat', '0.json', '1.json'], { cwd });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^error: 0\.json:15:54: not valid JSON/);
    const json = await runCli(['schema', 'compat', '--json', '0.json', '1.json'], { cwd });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ type: 'error', error: 'InvalidInputError', exitCode: 2 });
  });
});
