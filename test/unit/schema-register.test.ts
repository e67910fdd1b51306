import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirSchemaRegistry } from '../../src/adapters/schemas-dir.js';
import { DriftError } from '../../src/errors.js';
import type { StepContext } from '../../src/steps/contract.js';
import { stepContext } from '../support/step-context.js';
import { stepTypes } from '../../src/steps/index.js';
import { schemaRegisterStep } from '../../src/steps/schema-register.js';

const exampleV0 = fileURLToPath(new URL('../../examples/schemas/ExerciseCompleted/0.json', import.meta.url));
const seedFixture = fileURLToPath(new URL('../fixtures/seed-ExerciseCompleted.json', import.meta.url));

let cwd: string;
let registry: DirSchemaRegistry;

/** What the engine hands a step, with the real directory registry and no Kafka or flags. */
function context(): StepContext {
  return stepContext({ step: 'register-schema', cwd, schemas: () => Promise.resolve(registry) });
}

const params = (p: Record<string, unknown>) => schemaRegisterStep.params.parse(p);

/** Writes a variant of the example schema into the working directory. */
async function variant(name: string, edit: (s: { definitions: { payload: { properties: Record<string, unknown>; required: string[] } }; properties: Record<string, unknown> }) => void) {
  const schema = JSON.parse(await readFile(exampleV0, 'utf8'));
  edit(schema);
  await writeFile(path.join(cwd, name), JSON.stringify(schema, null, 2));
  return name;
}

beforeEach(async () => {
  cwd = await mkdtemp(path.join(os.tmpdir(), 'migrate-schema-register-'));
  registry = new DirSchemaRegistry(path.join(cwd, 'registry'));
  await mkdir(path.join(cwd, 'schemas'));
  await copyFile(exampleV0, path.join(cwd, 'schemas', 'v0.json'));
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe('schema.register', () => {
  it('is a registered step type that needs only the schema registry', () => {
    expect(stepTypes.get('schema.register')).toBe(schemaRegisterStep);
    expect(schemaRegisterStep.needs).toEqual(['schemas']);
    expect(schemaRegisterStep.timeoutMs).toBe(30_000);
    expect(schemaRegisterStep.intervalMs).toBe(250);
  });

  it('params: version coerced from a template string, BACKWARD by default, unknown keys refused', () => {
    expect(params({ event: 'ExerciseCompleted', version: '1', file: 'x.json' })).toEqual({
      event: 'ExerciseCompleted',
      version: 1,
      file: 'x.json',
      compatibility: 'BACKWARD',
    });
    expect(() => params({ event: 'E', version: '-1' })).toThrow();
    expect(() => params({ event: 'E', version: '1.5' })).toThrow();
    expect(() => params({ event: 'E', version: 0, compatibility: 'FORWARD' })).toThrow();
    expect(() => params({ event: 'E', version: 0, fiel: 'x.json' })).toThrow();
    expect(schemaRegisterStep.describe(params({ event: 'E', version: 2, file: 'e.json' }))).toBe(
      'event schema E v2 from e.json is registered (BACKWARD compatibility)',
    );
  });

  it('registers v0, and a second look finds it done', async () => {
    const ctx = context();
    const p = params({ event: 'ExerciseCompleted', version: 0, file: 'schemas/v0.json' });
    expect(await schemaRegisterStep.check(p, ctx)).toEqual({ done: false, summary: expect.stringMatching(/ExerciseCompleted v0 is not registered in schema directory/) });

    const location = path.join(cwd, 'registry', 'ExerciseCompleted', '0.json');
    expect(await schemaRegisterStep.apply!(p, ctx)).toEqual({ event: 'ExerciseCompleted', version: 0, location });
    expect(JSON.parse(await readFile(location, 'utf8'))).toEqual(JSON.parse(await readFile(exampleV0, 'utf8')));

    const again = await schemaRegisterStep.check(p, ctx);
    expect(again).toEqual({ done: true, summary: `schema ExerciseCompleted v0 is registered at ${location}`, outputs: { event: 'ExerciseCompleted', version: 0, location } });
    // Without a file, a registered version is taken as it is.
    expect((await schemaRegisterStep.check(params({ event: 'ExerciseCompleted', version: 0 }), ctx)).done).toBe(true);
  });

  it('refuses v1 when it makes a field required, naming the reason; registers it with compatibility NONE', async () => {
    const ctx = context();
    await schemaRegisterStep.apply!(params({ event: 'ExerciseCompleted', version: 0, file: 'schemas/v0.json' }), ctx);
    const file = await variant('v1.json', (s) => {
      s.properties.event_version = { enum: [1] };
      s.definitions.payload.properties.score = { type: 'integer' };
      s.definitions.payload.required.push('score');
    });
    const p = params({ event: 'ExerciseCompleted', version: 1, file });
    expect((await schemaRegisterStep.check(p, ctx)).done).toBe(false);
    await expect(schemaRegisterStep.apply!(p, ctx)).rejects.toThrow(
      /^ExerciseCompleted v1 \(v1\.json\) is not backward compatible with v0 \(.*registry\/ExerciseCompleted\/0\.json\): payload\.score: newly required/,
    );
    expect(await registry.versions('ExerciseCompleted')).toEqual([0]);

    await schemaRegisterStep.apply!({ ...p, compatibility: 'NONE' }, ctx);
    expect(await registry.versions('ExerciseCompleted')).toEqual([0, 1]);
  });

  it('accepts a compatible v1 (an optional field, a new event_version)', async () => {
    const ctx = context();
    await schemaRegisterStep.apply!(params({ event: 'ExerciseCompleted', version: 0, file: 'schemas/v0.json' }), ctx);
    const file = await variant('v1.json', (s) => {
      s.properties.event_version = { enum: [1] };
      s.definitions.payload.properties.score = { type: 'integer' };
    });
    const p = params({ event: 'ExerciseCompleted', version: 1, file });
    await schemaRegisterStep.apply!(p, ctx);
    expect((await schemaRegisterStep.check(p, ctx)).done).toBe(true);
  });

  it('compares with the highest registered version below, not with v0', async () => {
    const ctx = context();
    await schemaRegisterStep.apply!(params({ event: 'ExerciseCompleted', version: 0, file: 'schemas/v0.json' }), ctx);
    const v1 = await variant('v1.json', (s) => {
      s.definitions.payload.properties.title = { type: ['string', 'integer'] };
    });
    await schemaRegisterStep.apply!(params({ event: 'ExerciseCompleted', version: 1, file: v1 }), ctx);
    const v2 = await variant('v2.json', (s) => {
      s.definitions.payload.properties.title = { type: 'string' }; // fine against v0, not against v1
    });
    await expect(schemaRegisterStep.apply!(params({ event: 'ExerciseCompleted', version: 2, file: v2 }), ctx)).rejects.toThrow(
      /with v1 .*payload\.title: type narrowed from \[string, integer\] to string/,
    );
  });

  it('different content under the same version is drift, naming the registered location', async () => {
    const ctx = context();
    await schemaRegisterStep.apply!(params({ event: 'ExerciseCompleted', version: 0, file: 'schemas/v0.json' }), ctx);
    const other = await variant('other.json', (s) => {
      s.definitions.payload.properties.title = { type: 'string', maxLength: 200 };
    });
    const check = schemaRegisterStep.check(params({ event: 'ExerciseCompleted', version: 0, file: other }), ctx);
    await expect(check).rejects.toBeInstanceOf(DriftError);
    await expect(check).rejects.toThrow(
      `schema ExerciseCompleted v0 at ${path.join(cwd, 'registry', 'ExerciseCompleted', '0.json')} differs from the playbook: registered content differs from other.json (at /definitions/payload/properties/title/maxLength)`,
    );
  });

  it('a version neither registered nor given as a file is an error', async () => {
    await expect(schemaRegisterStep.check(params({ event: 'ExerciseCompleted', version: 3 }), context())).rejects.toThrow(
      /schema ExerciseCompleted v3 is not registered in schema directory .* and no file was given to register/,
    );
  });

  it('an invalid schema file fails the step with file:line:col', async () => {
    await copyFile(seedFixture, path.join(cwd, 'seed.json'));
    const p = params({ event: 'ExerciseCompleted', version: 0, file: 'seed.json' });
    await expect(schemaRegisterStep.check(p, context())).rejects.toThrow('the schema file is not valid: seed.json:15:54: not valid JSON: trailing comma before "}"');
    await expect(schemaRegisterStep.apply!(p, context())).rejects.toThrow(/seed\.json:15:54/);
    const typo = await variant('typo.json', (s) => {
      s.definitions.payload.properties.title = { type: 'strin' };
    });
    await expect(schemaRegisterStep.apply!(params({ event: 'ExerciseCompleted', version: 0, file: typo }), context())).rejects.toThrow(
      /typo\.json:\d+:\d+: invalid draft-04 schema: \/definitions\/payload\/properties\/title\/type must be one of/,
    );
    await expect(schemaRegisterStep.check(params({ event: 'E', version: 0, file: 'missing.json' }), context())).rejects.toThrow(
      /cannot read the schema file missing\.json/,
    );
    expect(await registry.versions('ExerciseCompleted')).toEqual([]);
  });

  it('a schema placed in the registry by hand passes the same checks before it counts as done', async () => {
    const ctx = context();
    await schemaRegisterStep.apply!(params({ event: 'ExerciseCompleted', version: 0, file: 'schemas/v0.json' }), ctx);
    const v1 = await variant('v1.json', (s) => {
      s.definitions.payload.required.push('score');
      s.definitions.payload.properties.score = { type: 'integer' };
    });
    await registry.register('ExerciseCompleted', 1, JSON.parse(await readFile(path.join(cwd, v1), 'utf8')));
    await expect(schemaRegisterStep.check(params({ event: 'ExerciseCompleted', version: 1, file: v1 }), ctx)).rejects.toThrow(/payload\.score: newly required/);
  });
});
