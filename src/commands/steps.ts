import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadConfig } from '../config.js';
import { UsageError } from '../errors.js';
import { packageRoot } from '../package-root.js';
import type { StepType } from '../steps/contract.js';
import { stepTypes as builtIns } from '../steps/index.js';
import { loadPlugins } from '../steps/plugins.js';
import { paint, type Painter } from '../ui/paint.js';
import { formatTable } from '../ui/table.js';
import type { CommonOptions, FlagsOf } from './options.js';

/** Options of `migrate steps`. */
export interface StepsCommandOptions extends CommonOptions, FlagsOf<'steps'> {
  env?: Record<string, string | undefined>;
}

/** One param of a step type's `with:` block, as its schema declares it. */
export interface ParamListing {
  name: string;
  /** JSON Schema's words: string, integer, boolean, string[], "on" | "off", string | number, ... */
  type: string;
  required: boolean;
  default?: unknown;
  description?: string;
}

/** One step type as `migrate steps` shows it (the shape of --json: documented in docs/commands/steps.md). */
export interface StepTypeListing {
  type: string;
  source: 'built-in' | 'plugin';
  /** The plugin file that defines it (plugins only). */
  file?: string;
  /** Its documentation: docs/steps/<type>.md in the package (built-ins), or the URL a plugin declares. */
  docs?: string;
  apply: boolean;
  undo: boolean;
  /** Whether a step of the type applies and undoes depends on its params (exec's `apply:` and `undo:`). */
  byParams?: true;
  /** A gate asks a person instead of checking the world. */
  gate: boolean;
  needs: string[];
  timeoutMs: number;
  intervalMs: number;
  params: ParamListing[];
  /** Set when the params cannot be listed (a schema zod cannot describe): why. */
  paramsNote?: string;
}

const docsDir = fileURLToPath(new URL('docs/steps/', packageRoot));

/** Every step type available from `cwd`: the built-ins, then the plugins `plugins:` names, in load order. */
export async function listStepTypes(o: { cwd: string; config?: string | undefined; env?: Record<string, string | undefined> }): Promise<StepTypeListing[]> {
  const config = await loadConfig({ cwd: o.cwd, configPath: o.config, ...(o.env ? { env: o.env } : {}) });
  const plugins = await loadPlugins(config.plugins, o.cwd);
  return [
    ...[...builtIns.values()].map((t) => {
      const doc = `${docsDir}${t.type}.md`;
      return listing(t, { source: 'built-in', ...(existsSync(doc) ? { docs: doc } : {}) });
    }),
    ...plugins.map((p) => listing(p.type, { source: 'plugin', file: p.file, ...(p.type.docs ? { docs: p.type.docs } : {}) })),
  ];
}

function listing(t: StepType<unknown>, from: Pick<StepTypeListing, 'source' | 'file' | 'docs'>): StepTypeListing {
  return {
    type: t.type,
    ...from,
    apply: typeof t.apply === 'function',
    undo: typeof t.undo === 'function',
    ...(t.provides ? { byParams: true as const } : {}),
    gate: Boolean(t.gate),
    needs: [...(t.needs ?? [])],
    timeoutMs: t.timeoutMs,
    intervalMs: t.intervalMs,
    ...describeParams(t.params),
  };
}

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
  description?: string;
};

/** The params of a `with:` schema, from its JSON Schema (zod 4's toJSONSchema, on the input side). */
export function describeParams(schema: unknown): { params: ParamListing[]; paramsNote?: string } {
  if (typeof schema !== 'object' || schema === null || !('_zod' in schema)) {
    return { params: [], paramsNote: 'not a zod 4 schema (zod 3, or another library), so its params cannot be listed' };
  }
  let json: JsonSchema;
  try {
    json = z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  } catch (err) {
    return { params: [], paramsNote: `the params schema cannot be described: ${err instanceof Error ? err.message : String(err)}` };
  }
  const required = new Set(json.required ?? []);
  const params = Object.entries(json.properties ?? {}).map(([name, p]) => ({
    name,
    type: typeName(p),
    required: required.has(name),
    ...(p.default !== undefined ? { default: p.default } : {}),
    ...(p.description ? { description: p.description } : {}),
  }));
  return params.length || json.type === 'object' ? { params } : { params, paramsNote: 'the params are not an object of named fields' };
}

function typeName(p: JsonSchema): string {
  if (p.enum) return p.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (p.const !== undefined) return JSON.stringify(p.const);
  const union = p.anyOf ?? p.oneOf;
  if (union) return [...new Set(union.map(typeName))].join(' | ');
  if (Array.isArray(p.type)) return p.type.join(' | ');
  if (p.type === 'array') return p.items ? `${typeName(p.items).includes(' ') ? `(${typeName(p.items)})` : typeName(p.items)}[]` : 'array';
  return p.type ?? 'any';
}

/** `migrate steps [type]`: the step types available here, built-in and plugin, with their params. */
export async function stepsCommand(type: string | undefined, o: StepsCommandOptions): Promise<number> {
  const all = await listStepTypes(o);
  const shown = type === undefined ? all : all.filter((s) => s.type === type);
  if (type !== undefined && !shown.length) throw new UsageError(`no step type "${type}"`, `known types: ${all.map((s) => s.type).sort().join(', ')}`);
  o.out.write(o.json ? JSON.stringify({ steps: shown }) + '\n' : renderStepTypes(shown, { detail: type !== undefined, cwd: o.cwd, c: paint(o.color) }));
  return 0;
}

/** One line per type (built-ins, then plugins) with its params in short; with `detail`, a table of each type's params. */
function renderStepTypes(steps: readonly StepTypeListing[], o: { detail: boolean; cwd: string; c: Painter }): string {
  const where = (s: StepTypeListing) => (s.source === 'plugin' ? `plugin ${s.file}` : 'built-in');
  const acts = (s: StepTypeListing) =>
    s.gate ? 'gate' : `${[s.apply ? 'apply' : 'wait', ...(s.undo ? ['undo'] : [])].join('+')}${s.byParams ? ' (as its params give)' : ''}`;
  const docs = (s: StepTypeListing) => (s.docs && path.isAbsolute(s.docs) && !path.relative(o.cwd, s.docs).startsWith('..') ? path.relative(o.cwd, s.docs) : (s.docs ?? ''));
  if (!o.detail) {
    const lines = formatTable(steps.map((s) => [{ text: s.type, style: o.c.bold }, acts(s), where(s)]));
    return steps.map((s, i) => `${lines[i]}\n${o.c.dim(`    params: ${shortParams(s)}`)}\n`).join('');
  }
  return steps
    .map((s) => {
      const head = [
        `${o.c.bold(s.type)}  ${where(s)}`,
        `  does: ${acts(s)}${s.needs.length ? `; needs ${s.needs.join(', ')}` : ''}; timeout ${s.timeoutMs} ms, poll every ${s.intervalMs} ms`,
        ...(s.docs ? [`  docs: ${docs(s)}`] : []),
        s.params.length ? '  params:' : `  params: ${s.paramsNote ?? 'none'}`,
      ];
      const rows = s.params.map((p) => [p.name, p.type, p.required ? 'required' : p.default !== undefined ? `default ${JSON.stringify(p.default)}` : 'optional', p.description ?? '']);
      return [...head, ...formatTable(rows, { indent: '    ' })].join('\n') + '\n';
    })
    .join('\n');
}

/** topic*, partitions=3, configs: required ones starred, defaults shown. */
function shortParams(s: StepTypeListing): string {
  if (!s.params.length) return s.paramsNote ?? 'none';
  return s.params.map((p) => (p.required ? `${p.name}*` : p.default !== undefined ? `${p.name}=${JSON.stringify(p.default)}` : p.name)).join(', ');
}
