import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { RegisteredSchema, SchemaRegistry, SchemaScope } from '../adapters/schemas.js';
import { DriftError, formatProblem } from '../errors.js';
import { checkBackwardCompatible } from '../schema/compat.js';
import { lintSchema } from '../schema/lint.js';
import { defineStep, type StepContext } from './contract.js';

const params = z
  .object({
    event: z.string().min(1),
    version: z.coerce.number().int().min(0),
    /** The schema to register, relative to the working directory. */
    file: z.string().min(1).optional(),
    compatibility: z.enum(['BACKWARD', 'NONE']).default('BACKWARD'),
    /** The topic the events go to: a registry files the schema under `<topic>-value`. */
    topic: z.string().min(1).optional(),
    /** The registry subject, when it is not `<topic>-value`. */
    subject: z.string().min(1).optional(),
  })
  .strict();

type Params = z.infer<typeof params>;

/** What the step records of the version it registered or found (the registry's subject and version where it has them). */
const schemaVersion = z.object({
  event: z.string(),
  version: z.number(),
  location: z.string(),
  id: z.number().optional(),
  subject: z.string().optional(),
  registryVersion: z.number().optional(),
});

/** How many lint problems an error message quotes. */
const QUOTED_PROBLEMS = 5;

/**
 * schema.register: the event's schema version is registered with the content of `file`. Before
 * registering (and whenever it finds the version registered with that content) it lints the
 * file and checks BACKWARD compatibility with the highest registered version below it, so a
 * schema placed in the registry by hand passes the same checks. A registry that judges
 * compatibility itself (a Confluent-compatible one) is asked too, at the step's level, before
 * anything is registered.
 */
export const schemaRegisterStep = defineStep({
  type: 'schema.register',
  needs: ['schemas'],
  params,
  timeoutMs: 30_000,
  intervalMs: 250,
  irreversible: 'the registered schema is kept, since events written with it may still be read; remove it from the registry by hand if you mean to',
  outputs: { kind: 'schema version', schema: schemaVersion },
  describe: (p) =>
    `event schema ${p.event} v${p.version}${p.file ? ` from ${p.file}` : ''} is registered` +
    `${p.subject ? ` under subject ${p.subject}` : p.topic ? ` under subject ${p.topic}-value` : ''} (${p.compatibility} compatibility)`,

  async check(p, ctx) {
    const registry = await ctx.schemas();
    const registered = await registry.get(p.event, p.version, scopeOf(p));
    if (!p.file) {
      if (!registered) throw new Error(`${await notRegistered(p, registry)} and no file was given to register`);
      return done(registered);
    }
    const schema = await readValidSchema(p.file, ctx);
    if (!registered) return { done: false, summary: await notRegistered(p, registry) };
    if (!isDeepStrictEqual(registered.schema, schema)) {
      throw new DriftError(`schema ${p.event} v${p.version} at ${registered.location}`, [
        `registered content differs from ${p.file} (${differences(registered.schema, schema).join(', ')})`,
      ]);
    }
    await assertCompatible(p, schema, registry);
    return done(registered);
  },

  async apply(p, ctx) {
    if (!p.file) throw new Error(`schema ${p.event} v${p.version}: no file was given to register`);
    const registry = await ctx.schemas();
    const schema = await readValidSchema(p.file, ctx);
    await assertCompatible(p, schema, registry);
    await assertRegistryAccepts(p, schema, registry);
    const stored = await registry.register(p.event, p.version, schema, scopeOf(p));
    return outputs(stored);
  },
});

function scopeOf(p: Params): SchemaScope {
  return { topic: p.topic, subject: p.subject };
}

/** "schema E vN is not registered in ...", naming what is missing where the registry can tell. */
async function notRegistered(p: Params, registry: SchemaRegistry): Promise<string> {
  const why = await registry.whyMissing?.(p.event, p.version, scopeOf(p));
  return `schema ${p.event} v${p.version} is not registered ${why ? `(${why})` : `in ${registry.description}`}`;
}

/**
 * The registry's own compatibility rule, at the step's level (set on the subject first where it
 * differs and is not already stricter). Its reasons are quoted when it gives them. Apicurio's
 * compatibility endpoint gives none even with verbose=true; its refusal of the registration
 * does (409), and a refused registration registers nothing, so then the registration is left
 * to be refused with the reasons.
 */
async function assertRegistryAccepts(p: Params, schema: Record<string, unknown>, registry: SchemaRegistry): Promise<void> {
  if (!registry.checkCompatibility) return;
  const verdict = await registry.checkCompatibility(p.event, p.version, schema, p.compatibility, scopeOf(p));
  if (verdict.compatible || verdict.messages.length === 0) return;
  throw new Error(
    `${registry.description} refuses ${p.event} v${p.version} (${p.file}) as not ${verdict.level} compatible with what it holds: ${verdict.messages.join('; ')} (nothing was registered)`,
  );
}

function done(r: RegisteredSchema) {
  return { done: true as const, summary: `schema ${r.event} v${r.version} is registered at ${r.location}`, outputs: outputs(r) };
}

function outputs(r: RegisteredSchema): Record<string, unknown> {
  return {
    event: r.event,
    version: r.version,
    location: r.location,
    ...(r.id === undefined ? {} : { id: r.id }),
    ...(r.subject === undefined ? {} : { subject: r.subject }),
    ...(r.registryVersion === undefined ? {} : { registryVersion: r.registryVersion }),
  };
}

/** The file's schema, or an error quoting its first problems as file:line:col: message. */
async function readValidSchema(file: string, ctx: StepContext): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path.resolve(ctx.cwd, file), 'utf8');
  } catch (err) {
    throw new Error(`cannot read the schema file ${file}: ${(err as Error).message}`, { cause: err });
  }
  const { schema, problems } = await lintSchema(file, text);
  if (problems.length || !schema) {
    const quoted = problems.slice(0, QUOTED_PROBLEMS).map(formatProblem);
    const more = problems.length > QUOTED_PROBLEMS ? ` (and ${problems.length - QUOTED_PROBLEMS} more; see migrate schema lint ${file})` : '';
    throw new Error(`the schema file is not valid: ${quoted.join('; ')}${more}`);
  }
  return schema;
}

/** Throws when BACKWARD is asked for and the previous registered version's events would not pass. */
async function assertCompatible(p: Params, schema: Record<string, unknown>, registry: SchemaRegistry): Promise<void> {
  if (p.compatibility === 'NONE') return;
  const previous = (await registry.versions(p.event, scopeOf(p))).filter((v) => v < p.version).pop();
  if (previous === undefined) return;
  const old = await registry.get(p.event, previous, scopeOf(p));
  if (!old) return; // removed in between: nothing to be compatible with
  const reasons = checkBackwardCompatible(old.schema, schema);
  if (reasons.length) {
    throw new Error(
      `${p.event} v${p.version} (${p.file}) is not backward compatible with v${previous} (${old.location}): ${reasons.join('; ')}` +
        ' (make the change compatible, or register with compatibility: NONE and a plan for the old events)',
    );
  }
}

/** Up to three JSON Pointers where two documents differ, for a drift message. */
function differences(a: unknown, b: unknown, pointer = '', out: string[] = []): string[] {
  if (out.length >= 3 || isDeepStrictEqual(a, b)) return out;
  const objects = a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b);
  if (!objects) {
    out.push(`at ${pointer || '/'}`);
    return out;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const key of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
    differences(ra[key], rb[key], `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, out);
  }
  return out;
}
