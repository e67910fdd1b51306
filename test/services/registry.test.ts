// schema.register and the Confluent-compatible registry adapter against a real Apicurio Registry
// (started by test/support/registry-setup.ts; its ccompat API). Each test uses its own topic, so
// its own subject `<topic>-value`.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';

import { freePorts } from '../../scripts/kafka-lib.mjs';
import { ConfluentSchemaRegistry } from '../../src/adapters/schemas-registry.js';
import { DriftError, TransientError } from '../../src/errors.js';
import { schemaRegisterStep } from '../../src/steps/schema-register.js';
import { unique } from '../support/cli.js';
import { exerciseCompletedSchema } from '../support/seed-schema.js';
import { stepContext } from '../support/step-context.js';

const url = inject('schemaRegistryUrl');
const registry = new ConfluentSchemaRegistry({ url });
let cwd: string;

beforeAll(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), 'migrate-registry-'));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

type Schema = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The seed's schema, edited, written as `name` into the working directory. */
async function schemaFile(name: string, edit: (s: Schema) => void = () => undefined): Promise<string> {
  const schema = structuredClone(exerciseCompletedSchema) as Schema;
  edit(schema);
  await writeFile(path.join(cwd, name), JSON.stringify(schema, null, 2));
  return name;
}

/** v1 that the registry accepts under BACKWARD: event_version widened to [0, 1], payload.title no longer required. */
const compatibleV1 = (s: Schema) => {
  s.properties.event_version = { enum: [0, 1] };
  s.definitions.payload.required = s.definitions.payload.required.filter((f: string) => f !== 'title');
};

const ctx = () => stepContext({ step: 'register-schema', cwd, schemas: () => Promise.resolve(registry) });
const params = (p: Record<string, unknown>) => schemaRegisterStep.params.parse({ event: 'ExerciseCompleted', ...p });

/** What the registry holds, read with the test's own HTTP client: subject versions, or 'missing'. */
async function held(subject: string): Promise<number[] | 'missing'> {
  const res = await fetch(`${url}/subjects/${encodeURIComponent(subject)}/versions`);
  if (res.status === 404) return 'missing';
  expect(res.status).toBe(200);
  return (await res.json()) as number[];
}

async function raw(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(`${url}${pathname}`, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

describe('schema.register against Apicurio Registry (ccompat API)', () => {
  it('registers v0 under <topic>-value, records the id, and a re-run finds it done with the same id', async () => {
    const topic = unique('datarep.reg');
    const file = await schemaFile('v0.json');
    const p = params({ version: 0, file, topic });

    const before = await schemaRegisterStep.check(p, ctx());
    expect(before).toEqual({ done: false, summary: `schema ExerciseCompleted v0 is not registered (subject ${topic}-value does not exist in schema registry ${url})` });

    const out = (await schemaRegisterStep.apply!(p, ctx())) as Record<string, unknown>;
    expect(out).toEqual({
      event: 'ExerciseCompleted',
      version: 0,
      id: expect.any(Number),
      subject: `${topic}-value`,
      registryVersion: 1,
      location: `${url}/subjects/${topic}-value/versions/1`,
    });
    expect(await held(`${topic}-value`)).toEqual([1]);
    const stored = await raw('GET', `/subjects/${topic}-value/versions/1`);
    expect(stored.body.id).toBe(out.id);
    expect(JSON.parse(stored.body.schema)).toEqual(exerciseCompletedSchema);

    // Converged: check is done with the same outputs; registering again is idempotent.
    const again = await schemaRegisterStep.check(p, ctx());
    expect(again).toEqual({ done: true, summary: `schema ExerciseCompleted v0 is registered at ${out.location}`, outputs: out });
    expect((await registry.register('ExerciseCompleted', 0, exerciseCompletedSchema, { topic })).id).toBe(out.id);
    expect(await held(`${topic}-value`)).toEqual([1]);
  });

  it('v1 compatible with v0 is registered as the subject second version; the subject level is BACKWARD', async () => {
    const topic = unique('datarep.reg');
    await schemaRegisterStep.apply!(params({ version: 0, file: await schemaFile('v0.json'), topic }), ctx());
    const v1 = params({ version: 1, file: await schemaFile('v1-ok.json', compatibleV1), topic });
    expect((await schemaRegisterStep.check(v1, ctx())).done).toBe(false);

    const out = (await schemaRegisterStep.apply!(v1, ctx())) as Record<string, unknown>;
    expect(out).toMatchObject({ version: 1, subject: `${topic}-value`, registryVersion: 2 });
    expect(await held(`${topic}-value`)).toEqual([1, 2]);
    expect((await raw('GET', `/config/${topic}-value`)).body.compatibilityLevel).toBe('BACKWARD');
    const v0 = await registry.get('ExerciseCompleted', 0, { topic });
    expect(v0?.id).not.toBe(out.id);
    expect((await schemaRegisterStep.check(v1, ctx())).done).toBe(true);
  });

  it("v1 the registry finds incompatible is refused with the registry's reason, and nothing is registered", async () => {
    const topic = unique('datarep.reg');
    await schemaRegisterStep.apply!(params({ version: 0, file: await schemaFile('v0.json'), topic }), ctx());
    // An optional typed property in an open object: our own check accepts it (documented), the
    // registry's JSON Schema rule does not (an old event could carry "score" as a string).
    const file = await schemaFile('v1-narrow.json', (s) => {
      compatibleV1(s);
      s.definitions.payload.properties.score = { type: 'integer' };
    });
    const p = params({ version: 1, file, topic });
    const err = await schemaRegisterStep.apply!(p, ctx()).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toMatch(new RegExp(`^the registry at ${url} refused ExerciseCompleted v1 as incompatible with subject ${topic}-value: Incompatible artifact: .*propertySchemasAdded.* \\(nothing was registered\\)$`));
    expect(err?.message).not.toMatch(/RuleViolationException/);
    expect(await held(`${topic}-value`)).toEqual([1]);
    expect((await schemaRegisterStep.check(p, ctx())).done).toBe(false);
  });

  it('compatibility NONE sets the subject level to NONE and registers what BACKWARD refuses', async () => {
    const topic = unique('datarep.reg');
    await schemaRegisterStep.apply!(params({ version: 0, file: await schemaFile('v0.json'), topic }), ctx());
    const file = await schemaFile('v1-none.json', (s) => {
      s.properties.event_version = { enum: [1] };
    });
    const out = (await schemaRegisterStep.apply!(params({ version: 1, file, topic, compatibility: 'NONE' }), ctx())) as Record<string, unknown>;
    expect(out).toMatchObject({ version: 1, registryVersion: 2 });
    expect((await raw('GET', `/config/${topic}-value`)).body.compatibilityLevel).toBe('NONE');
  });

  it('a version number that is not the next one is refused, naming what the subject holds', async () => {
    const topic = unique('datarep.reg');
    await schemaRegisterStep.apply!(params({ version: 0, file: await schemaFile('v0.json'), topic }), ctx());
    // compatibility NONE: refused before the subject's level is touched.
    const v2 = params({ version: 2, file: await schemaFile('v2.json', compatibleV1), topic, compatibility: 'NONE' });
    await expect(schemaRegisterStep.apply!(v2, ctx())).rejects.toThrow(
      `cannot register ExerciseCompleted v2 under subject ${topic}-value of ${url}: the subject holds 1 version (v0), so a new schema would become v1 (register v1 next, or check the step's topic/subject)`,
    );
    // The same content as v0, declared v1: the registry would hand back v0's id and add nothing.
    const sameAsV0 = params({ version: 1, file: 'v0.json', topic });
    await expect(schemaRegisterStep.apply!(sameAsV0, ctx())).rejects.toThrow(/the same schema is already registered there as v0 \(registry version 1, id \d+\)/);
    expect(await held(`${topic}-value`)).toEqual([1]);
    expect((await raw('GET', `/config/${topic}-value`)).body.compatibilityLevel).toBe('BACKWARD');
  });

  it("drift: the subject's v0 differs from the file", async () => {
    const topic = unique('datarep.reg');
    const other = structuredClone(exerciseCompletedSchema) as Schema;
    other.definitions.payload.properties.title = { type: 'integer' };
    expect((await raw('POST', `/subjects/${topic}-value/versions`, { schemaType: 'JSON', schema: JSON.stringify(other) })).status).toBe(200);

    const err = await schemaRegisterStep.check(params({ version: 0, file: await schemaFile('v0.json'), topic }), ctx()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DriftError);
    expect((err as Error).message).toBe(
      `schema ExerciseCompleted v0 at ${url}/subjects/${topic}-value/versions/1 differs from the playbook: registered content differs from v0.json (at /definitions/payload/properties/title/type)`,
    );
  });

  it('an explicit subject wins over the topic; without either the subject is the event name', async () => {
    const subject = unique('custom-subject');
    const out = (await schemaRegisterStep.apply!(params({ version: 0, file: await schemaFile('v0.json'), topic: 'ignored', subject }), ctx())) as Record<string, unknown>;
    expect(out.subject).toBe(subject);
    expect(await held(subject)).toEqual([1]);
    expect(await held('ignored-value')).toBe('missing');

    const event = unique('Evt').replace(/-/g, '_');
    const r = await registry.register(event, 0, exerciseCompletedSchema);
    expect(r.subject).toBe(event);
  });

  it('a subject holding an Avro schema is named as such, not parsed as JSON Schema', async () => {
    const topic = unique('datarep.avro');
    const avro = { type: 'record', name: 'Thing', fields: [{ name: 'a', type: 'string' }] };
    expect((await raw('POST', `/subjects/${topic}-value/versions`, { schema: JSON.stringify(avro) })).status).toBe(200);
    await expect(registry.get('ExerciseCompleted', 0, { topic })).rejects.toThrow(
      `subject ${topic}-value version 1 in schema registry ${url} holds a schema of type AVRO, not JSON Schema: migrate validates events with JSON Schema`,
    );
  });

  it('a missing subject and a missing version are told apart', async () => {
    const topic = unique('datarep.none');
    expect(await registry.get('ExerciseCompleted', 0, { topic })).toBeUndefined();
    expect(await registry.whyMissing('ExerciseCompleted', 0, { topic })).toBe(`subject ${topic}-value does not exist in schema registry ${url}`);
    await registry.register('ExerciseCompleted', 0, exerciseCompletedSchema, { topic });
    expect(await registry.get('ExerciseCompleted', 3, { topic })).toBeUndefined();
    expect(await registry.whyMissing('ExerciseCompleted', 3, { topic })).toBe(`subject ${topic}-value in schema registry ${url} holds 1 version (v0), not v3`);
    await expect(schemaRegisterStep.check(params({ version: 3, topic }), ctx())).rejects.toThrow(
      `schema ExerciseCompleted v3 is not registered (subject ${topic}-value in schema registry ${url} holds 1 version (v0), not v3) and no file was given to register`,
    );
  });

  it('an invalid schema is refused by the registry as invalid (422)', async () => {
    // Valid JSON, but not a schema the registry can read as JSON Schema.
    await expect(registry.register('ExerciseCompleted', 0, { type: 12 } as Record<string, unknown>, { topic: unique('datarep.bad') })).rejects.toThrow(
      new RegExp(`^the registry at ${url} refused ExerciseCompleted v0 as an invalid schema: .+`),
    );
  });
});

describe('registry errors', () => {
  it('nothing listening: a transient error naming the address', async () => {
    const [port] = await freePorts(1);
    const gone = new ConfluentSchemaRegistry({ url: `http://127.0.0.1:${port}/apis/ccompat/v7` });
    const err = await gone.get('ExerciseCompleted', 0, { topic: 't' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TransientError);
    expect((err as Error).message).toBe(`schema registry http://127.0.0.1:${port}/apis/ccompat/v7: connection refused by 127.0.0.1:${port}`);
  });

  it('a URL that is not the ccompat API: a 404 that says where the API is', async () => {
    const base = url.replace(/\/apis\/ccompat\/v7$/, '/apis/nothing');
    const wrong = new ConfluentSchemaRegistry({ url: base });
    await expect(wrong.get('ExerciseCompleted', 0, { topic: 't' })).rejects.toThrow(
      new RegExp(`^the registry at ${base} answered 404 listing the versions of subject t-value: .*is ${base} the registry's Confluent-compatible API \\(Apicurio: \\.\\.\\./apis/ccompat/v7\\)\\?$`),
    );
  });

  it('credentials in the URL are refused without echoing them', () => {
    expect(() => new ConfluentSchemaRegistry({ url: 'http://me:hunter2@127.0.0.1:1/' })).toThrow(
      'the schema registry URL holds credentials: remove them and set SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD instead',
    );
  });
});
