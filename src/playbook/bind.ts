import { InvalidInputError, UsageError, type InputProblem } from '../errors.js';
import type { StepType } from '../steps/contract.js';
import { sha256, type LoadedPlaybook } from './load.js';
import { zodProblems } from '../util/yaml-source.js';
import type { StepSpec } from './schema.js';
import { expandDeep, expandString, refersToSteps, UnresolvedTemplateError, type TemplateValues } from './template.js';

/** A playbook with its params resolved and every step's `with:` checked as far as it can be before the run. */
export interface BoundPlaybook {
  loaded: LoadedPlaybook;
  params: Record<string, string>;
  /** Names of params marked secret: their values never reach state, logs or --json. */
  secretParams: ReadonlySet<string>;
  env: Record<string, string | undefined>;
  steps: BoundStep[];
}

/** A step ready to run: its `with:` is expanded now, or at run time when it reads step outputs. */
export interface BoundStep {
  spec: StepSpec;
  type: StepType<unknown>;
  title: string;
  /** Validated params, when known before the run. */
  params?: unknown;
}

/** Parses `k=v` strings from --param. */
export function parseParamArgs(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param ${arg}: expected key=value`);
    const key = arg.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) throw new UsageError(`--param ${arg}: "${key}" is not a param name`);
    out[key] = arg.slice(eq + 1);
  }
  return out;
}

/** Resolves params (given, defaults, enums, required) and validates every step that can be validated now. */
export function bindPlaybook(
  loaded: LoadedPlaybook,
  given: Record<string, string>,
  processEnv: Record<string, string | undefined> = process.env,
): BoundPlaybook {
  const { spec, source } = loaded;
  const declared = spec.params ?? {};
  const problems: InputProblem[] = [];
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(declared, key)) {
      const names = Object.keys(declared);
      problems.push({
        file: loaded.file,
        message: `--param ${key}: the playbook declares no such param${names.length ? ` (it declares: ${names.join(', ')})` : ''}`,
      });
    }
  }
  const env: Record<string, string | undefined> = {};
  for (const name of spec.env ?? []) env[name] = processEnv[name];

  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  const pending: string[] = [];
  for (const [name, p] of Object.entries(declared)) {
    if (Object.hasOwn(given, name)) params[name] = given[name] as string;
    else if (p.default !== undefined) pending.push(name);
    else if (p.required) {
      const what = p.description ? ` (${p.description})` : '';
      problems.push(source.problemAt(['params', name], `missing required param "${name}"${what}: pass --param ${name}=<value>`, source.keyNodeAt(['params'], name)));
    }
  }
  // Defaults may refer to other params; resolve them in as many passes as it takes.
  for (let pass = 0; pending.length && pass <= pending.length; pass++) {
    for (const name of [...pending]) {
      try {
        const value = expandString(String(declared[name]?.default), { params, env, steps: {} });
        params[name] = typeof value === 'string' ? value : JSON.stringify(value);
        pending.splice(pending.indexOf(name), 1);
      } catch (err) {
        if (!(err instanceof UnresolvedTemplateError)) throw err;
      }
    }
  }
  // A default that reads a missing required param is already explained by that param's problem.
  for (const name of problems.length ? [] : pending) {
    problems.push(source.problemAt(['params', name, 'default'], `default of "${name}" refers to a param with no value`));
  }
  for (const [name, p] of Object.entries(declared)) {
    const value = params[name];
    if (value !== undefined && p.enum && !p.enum.map(String).includes(value)) {
      problems.push({ file: loaded.file, message: `--param ${name}=${value}: must be one of ${p.enum.join(', ')}` });
    }
  }
  if (problems.length) throw new InvalidInputError(problems);

  const values: TemplateValues = { params, env, steps: {} };
  const steps: BoundStep[] = loaded.steps.map(({ spec: step, type }, i) => {
    const bound: BoundStep = { spec: step, type, title: step.title ?? step.id };
    try {
      if (step.title) bound.title = String(expandString(step.title, values));
    } catch {
      // a title that reads step outputs is shown unexpanded until the step runs
    }
    const raw = step.with ?? {};
    if (refersToSteps(raw)) return bound;
    try {
      const parsed = type.params.safeParse(expandDeep(raw, values));
      if (parsed.success) bound.params = parsed.data;
      else problems.push(...zodProblems(source, parsed.error, ['steps', i, 'with']).map((p) => ({ ...p, message: `${step.uses}: ${p.message}` })));
    } catch (err) {
      if (!(err instanceof UnresolvedTemplateError)) throw err;
      problems.push(source.problemAt(['steps', i, 'with'], `${err.message}: set the env variable or param it reads`));
    }
    return bound;
  });
  if (problems.length) throw new InvalidInputError(problems);
  const secretParams = new Set(Object.entries(declared).filter(([, p]) => p.secret).map(([n]) => n));
  return { loaded, params, secretParams, env, steps };
}

/** Params as they may be stored or shown: secret values masked. */
export function publicParams(bound: BoundPlaybook): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(bound.params)) out[k] = bound.secretParams.has(k) ? '***' : v;
  return out;
}

/**
 * `value` (an event, a run state, a plan) with every secret param's value replaced by *** in the
 * strings inside it: a step may repeat a secret in what it reports (a probe's URL with ?token=...).
 * Names, ids, checksums and timestamps are kept as they are: they carry no param values, and a
 * short secret must not corrupt them.
 */
export function maskSecrets<T>(bound: BoundPlaybook, value: T): T {
  const secrets = [...bound.secretParams]
    .map((n) => bound.params[n])
    .filter((v): v is string => Boolean(v))
    .sort((a, b) => b.length - a.length);
  if (!secrets.length) return value;
  const mask = (v: unknown, key?: string): unknown => {
    if (typeof v === 'string') return key !== undefined && UNMASKED_KEYS.has(key) ? v : secrets.reduce((text, secret) => text.replaceAll(secret, '***'), v);
    if (Array.isArray(v)) return v.map((item) => mask(item));
    if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) Object.defineProperty(out, k, { value: mask(inner, k), enumerable: true, writable: true, configurable: true });
      return out;
    }
    return v;
  };
  return mask(value) as T;
}

const UNMASKED_KEYS = new Set(['name', 'run', 'step', 'id', 'uses', 'type', 'status', 'at', 'createdAt', 'updatedAt', 'startedAt', 'finishedAt', 'checksum', 'paramsChecksum']);

/** A checksum of params, so a resumed run with other params is refused. */
export function paramsChecksum(params: Record<string, string>): string {
  const sorted = Object.keys(params).sort().map((k) => [k, params[k]]);
  return sha256(JSON.stringify(sorted));
}
