// Local step plugins: a team's own step types, ES modules that default-export a StepType, named by
// `plugins:` in migrate.config.yaml. They live here, in the step library's layer, because what they
// produce is step types and what they are checked against is the step contract; the commands (which
// read the config) call loadStepTypes and hand the result down to the playbook loader and the engine.
// Nothing here is imported unless a config names plugins, so `migrate --help` never pays for it.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PluginRef } from '../config.js';
import { InvalidInputError, type InputProblem } from '../errors.js';
import type { StepType, StepTypes } from './contract.js';
import { stepTypes as builtIns } from './index.js';

/** A step type a plugin file brought. */
export interface PluginStep {
  /** The plugin file, relative to the working directory when it is inside it. */
  file: string;
  type: StepType<unknown>;
}

/** A name a playbook can write after `uses:` (kafka.topic, acme.backfill, confirm). */
const TYPE_NAME = /^[A-Za-z][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/;
const PLUGIN_FILE = /\.m?js$/;
const NEEDS = new Set(['kafka', 'flags', 'schemas']);

/** The built-in step types and those of the configured plugins; the built-ins alone when there are none. */
export async function loadStepTypes(plugins: readonly PluginRef[], cwd: string): Promise<StepTypes> {
  if (!plugins.length) return builtIns;
  return withPlugins(await loadPlugins(plugins, cwd));
}

/** The built-ins and the given plugin steps, in one map. */
export function withPlugins(plugins: readonly PluginStep[]): StepTypes {
  return new Map([...builtIns, ...plugins.map((p) => [p.type.type, p.type] as const)]);
}

/**
 * Imports every plugin file (a folder's .js/.mjs files, in name order, those starting with `_` left
 * out as helpers) and checks each default export against the step contract. Every problem of every
 * file is reported at once, as bad input naming the file.
 */
export async function loadPlugins(refs: readonly PluginRef[], cwd: string): Promise<PluginStep[]> {
  const problems: InputProblem[] = [];
  const loaded: PluginStep[] = [];
  const owner = new Map<string, string>();
  for (const file of pluginFiles(refs, problems)) {
    const display = path.relative(cwd, file).startsWith('..') ? file : path.relative(cwd, file);
    const step = await importPlugin(file, display, problems);
    if (!step) continue;
    const type = step.type;
    if (builtIns.has(type)) {
      problems.push({ file: display, message: `step type "${type}" is built in; a plugin cannot replace it (give yours a name of its own, e.g. "acme.${type}")` });
    } else if (owner.has(type)) {
      problems.push({ file: display, message: `step type "${type}" is already defined by ${owner.get(type)}` });
    } else {
      owner.set(type, display);
      loaded.push({ file: display, type: step });
    }
  }
  if (problems.length) throw new InvalidInputError(problems, 'a plugin default-exports a step type: see docs/writing-a-step-type.md');
  return loaded;
}

/** The files the refs name: a file as is, a folder's .js/.mjs files (not `_helpers.js`) in name order. */
function pluginFiles(refs: readonly PluginRef[], problems: InputProblem[]): string[] {
  const files: string[] = [];
  for (const ref of refs) {
    if (statSync(ref.path).isDirectory()) {
      const names = readdirSync(ref.path).filter((n) => PLUGIN_FILE.test(n) && !n.startsWith('_') && !n.startsWith('.')).sort();
      files.push(...names.map((n) => path.join(ref.path, n)));
    } else if (PLUGIN_FILE.test(ref.path)) {
      files.push(ref.path);
    } else {
      const ts = /\.[mc]?ts$/.test(ref.path) ? ' (TypeScript: compile it to .js first)' : '';
      problems.push({ ...ref.at, message: `plugins: ${path.basename(ref.path)} is not a .js or .mjs file${ts}` });
    }
  }
  return [...new Set(files)];
}

async function importPlugin(file: string, display: string, problems: InputProblem[]): Promise<StepType<unknown> | undefined> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    problems.push(importProblem(file, display, err));
    return undefined;
  }
  const step = mod.default;
  if (step === undefined) {
    problems.push({ file: display, message: 'no default export: a plugin default-exports its step type (export default defineStep({ type, params, ... }))' });
    return undefined;
  }
  const found = shapeProblems(step);
  for (const message of found) problems.push({ file: display, message });
  return found.length ? undefined : (step as StepType<unknown>);
}

/** What keeps `value` from being a step type, in words; empty when it is one. */
export function shapeProblems(value: unknown): string[] {
  if (value === null || typeof value !== 'object') return [`the default export is ${value === null ? 'null' : typeof value}, not a step type object`];
  const s = value as Record<string, unknown>;
  const out: string[] = [];
  if (typeof s.type !== 'string' || !TYPE_NAME.test(s.type)) {
    out.push(s.type === undefined ? 'missing "type" (the name playbooks use in uses:)' : `"type" ${JSON.stringify(s.type)} is not a step type name (letters, digits, "_", "-", dot-separated)`);
  }
  const params = s.params as { safeParse?: unknown } | undefined;
  if (params === undefined) out.push('missing "params" (a zod schema of the step\'s with: block)');
  else if (params === null || typeof params !== 'object' || typeof params.safeParse !== 'function') out.push('"params" is not a zod schema (it has no safeParse method)');
  for (const fn of ['describe', 'check'] as const) {
    if (typeof s[fn] !== 'function') out.push(s[fn] === undefined ? `missing "${fn}" (a function)` : `"${fn}" is not a function`);
  }
  for (const fn of ['apply', 'undo'] as const) {
    if (s[fn] !== undefined && typeof s[fn] !== 'function') out.push(`"${fn}" is not a function`);
  }
  for (const ms of ['timeoutMs', 'intervalMs'] as const) {
    const v = s[ms];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) out.push(`"${ms}" must be a number of milliseconds above 0${v === undefined ? ' (it is missing)' : `, not ${JSON.stringify(v)}`}`);
  }
  if (s.needs !== undefined && (!Array.isArray(s.needs) || !s.needs.every((n) => NEEDS.has(n as string)))) out.push('"needs" must be a list of kafka, flags, schemas');
  if (s.docs !== undefined && typeof s.docs !== 'string') out.push('"docs" must be a string (a URL)');
  return out;
}

/** One line for a plugin that does not import: its syntax error at line:col, or what its import threw. */
function importProblem(file: string, display: string, err: unknown): InputProblem {
  const e = err as Error & { code?: string };
  if (e instanceof SyntaxError) {
    // The error of import() carries no position; Node's own syntax check prints it.
    return { file: display, ...syntaxPosition(file), message: `SyntaxError: ${e.message}` };
  }
  // An error thrown while the module ran: where in the plugin, if its stack says.
  const frame = new RegExp(`${escape(pathToFileURL(file).href)}:(\\d+):(\\d+)`).exec(e?.stack ?? '');
  const at = frame ? { line: Number(frame[1]), col: Number(frame[2]) } : {};
  const message = e instanceof Error ? e.message : String(err);
  const missing = e?.code === 'ERR_MODULE_NOT_FOUND' && /'(migrate|zod)'/.test(message) ? ' (install migrate in the repository: npm i -D migrate)' : '';
  return { file: display, ...at, message: `cannot load the plugin: ${message}${missing}` };
}

function syntaxPosition(file: string): { line?: number; col?: number } {
  const checked = spawnSync(process.execPath, ['--input-type=module', '--check'], { input: readFileSync(file), encoding: 'utf8', timeout: 10_000 });
  const lines = (checked.stderr ?? '').split('\n');
  const m = /^\[stdin\]:(\d+)/.exec(lines[0] ?? '');
  if (!m) return {};
  const caret = (lines[2] ?? '').indexOf('^');
  return { line: Number(m[1]), ...(caret >= 0 ? { col: caret + 1 } : {}) };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
