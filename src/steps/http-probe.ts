import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { httpRequest, HttpUnreachableError } from '../adapters/http.js';
import { InvalidInputError } from '../errors.js';
import { compileSchema, type Validator } from '../schema/validate.js';
import { parseJson, parseJsonInput, type JsonSyntaxError } from '../util/json.js';
import { durationSchema } from '../util/duration-schema.js';
import { formatDuration } from '../util/time.js';
import { defineStep, type StepContext } from './contract.js';

const statusCode = z.coerce.number().int().min(100).max(599);

const params = z
  .object({
    url: z.string().refine(isHttpUrl, 'expected an http:// or https:// URL'),
    method: z
      .string()
      .regex(/^[A-Za-z]+$/, 'expected an HTTP method like GET or POST')
      .transform((m) => m.toUpperCase())
      .default('GET'),
    headers: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional(),
    body: z.string().optional(),
    status: z.preprocess((v) => (Array.isArray(v) ? v : [v]), z.array(statusCode).min(1, 'name at least one status code')).default([200]),
    /** A JSON Schema file (relative to the working directory) or an inline schema. */
    schema: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
    maxLatency: durationSchema.optional(),
    successes: z.coerce.number().int().min(1).max(1000).default(3),
    requestTimeout: durationSchema.default(5000),
  })
  .strict();

type ProbeParams = z.infer<typeof params>;

/** Methods a plan's look may send: they change nothing on a well-behaved server. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface ProbeMemory {
  successes?: number;
  /** Compiled once per execution of the step, on the first check. */
  validator?: Promise<Validator>;
}

/**
 * http.probe: the endpoint answers as declared (status, body schema, latency) several times in a
 * row. A wait step: one request per check; any failure starts the count again.
 */
export const httpProbeStep = defineStep({
  type: 'http.probe',
  params,
  timeoutMs: 60_000,
  intervalMs: 500,
  plan: {
    judgedOverTime: { look: true, why: 'the endpoint must answer several times in a row, while a run waits' },
    unsafeLook: (p) => (SAFE_METHODS.has(p.method) ? undefined : `it sends ${p.method} requests, which may change the world; plan only sends GET, HEAD and OPTIONS`),
  },
  describe: (p) => `${p.method} ${p.url} answers ${statusText(p.status)} ${p.successes} times in a row`,

  async check(p, ctx) {
    const mem = ctx.memory as ProbeMemory;
    const validator = p.schema === undefined ? undefined : await cachedValidator(p.schema, ctx);
    const failure = (message: string, metrics: Record<string, number> = {}) => {
      mem.successes = 0;
      return { done: false as const, summary: message, progress: { message, metrics: { successes: 0, ...metrics } } };
    };

    let res;
    try {
      res = await httpRequest({
        url: p.url,
        method: p.method,
        ...(p.headers ? { headers: p.headers } : {}),
        ...(p.body !== undefined ? { body: p.body } : {}),
        timeoutMs: p.requestTimeout,
        signal: ctx.signal,
      });
    } catch (err) {
      if (err instanceof HttpUnreachableError) return failure(err.message);
      throw err;
    }
    const metrics = { status: res.status, latencyMs: res.latencyMs };
    if (!p.status.includes(res.status)) {
      const body = res.text.trim();
      const shown = body.length > 200 ? `${body.slice(0, 200)}…` : body;
      return failure(`expected status ${statusText(p.status)}, got ${res.status}${shown ? `: ${shown}` : ''}`, metrics);
    }
    if (validator) {
      let value: unknown;
      try {
        value = parseJson(res.text);
      } catch (err) {
        const e = err as JsonSyntaxError;
        return failure(`body is not JSON: ${e.message} at line ${e.line} column ${e.col}`, metrics);
      }
      const issues = validator(value);
      const first = issues[0];
      if (first) {
        const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
        return failure(`body fails the schema at ${first.path || 'the root'}: ${first.message}${more}`, metrics);
      }
    }
    if (p.maxLatency !== undefined && res.latencyMs > p.maxLatency) {
      return failure(`latency ${formatDuration(res.latencyMs)} over the ${formatDuration(p.maxLatency)} bound`, metrics);
    }

    mem.successes = (mem.successes ?? 0) + 1;
    if (mem.successes >= p.successes) {
      return {
        done: true,
        summary: `${p.method} ${p.url} answered ${res.status} in ${formatDuration(res.latencyMs)}, ${p.successes === 1 ? 'once' : `${p.successes} times in a row`}`,
        outputs: { status: res.status, latencyMs: res.latencyMs },
      };
    }
    const message = `${mem.successes}/${p.successes} successes in a row (${res.status} in ${formatDuration(res.latencyMs)})`;
    return { done: false, summary: message, progress: { message, metrics: { successes: mem.successes, ...metrics } } };
  },
});

/** The probe's validator, compiled on the first check of this execution and kept in its memory. */
function cachedValidator(schema: NonNullable<ProbeParams['schema']>, ctx: StepContext): Promise<Validator> {
  const mem = ctx.memory as ProbeMemory;
  if (!mem.validator) {
    mem.validator = loadValidator(schema, ctx.cwd);
    // A failure is not kept: the next execution of the step looks at the file again.
    mem.validator.catch(() => delete mem.validator);
  }
  return mem.validator;
}

async function loadValidator(schema: NonNullable<ProbeParams['schema']>, cwd: string): Promise<Validator> {
  if (typeof schema !== 'string') return compileNamed(schema, 'the inline schema');
  const file = path.resolve(cwd, schema);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `schema file ${schema} does not exist (looked in ${file})` : `cannot read schema file ${schema}: ${code ?? String(err)}`);
  }
  const doc = parseJsonInput(schema, text, 'schema');
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new InvalidInputError([{ file: schema, message: 'a JSON Schema must be a JSON object' }]);
  }
  return compileNamed(doc as Record<string, unknown>, `schema file ${schema}`);
}

async function compileNamed(schema: Record<string, unknown>, name: string): Promise<Validator> {
  try {
    return await compileSchema(schema);
  } catch (err) {
    throw new Error(`${name} is not a valid JSON Schema: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** "200", "200 or 204", "one of 200, 201, 204". */
function statusText(codes: readonly number[]): string {
  if (codes.length === 1) return String(codes[0]);
  if (codes.length === 2) return `${codes[0]} or ${codes[1]}`;
  return `one of ${codes.join(', ')}`;
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}
