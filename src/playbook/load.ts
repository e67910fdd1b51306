import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError, UsageError, type InputProblem } from '../errors.js';
import type { StepType, StepTypes } from '../steps/contract.js';
import { stepTypes as builtInStepTypes } from '../steps/index.js';
import { packageRoot } from '../package-root.js';
import { playbookSchema, type PlaybookSpec } from './schema.js';
import { YamlSource, zodProblems } from '../util/yaml-source.js';
import { checkRef, scanTemplates, type TemplateScope } from './template.js';

/** A playbook read from disk and checked for structure, step types and template references. */
export interface LoadedPlaybook {
  spec: PlaybookSpec;
  file: string;
  /** The name or path the user gave, to repeat in hints. */
  ref: string;
  source: YamlSource;
  /** sha256 of the file's text */
  checksum: string;
  steps: { spec: PlaybookSpec['steps'][number]; type: StepType<unknown> }[];
}

/** Where the built-in playbooks live (the package's own playbooks/ folder). */
export const builtinPlaybookDir = fileURLToPath(new URL('playbooks/', packageRoot));

const PLAYBOOK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Resolves a playbook name (./playbooks/, then the built-ins) or a path to a file. */
export function resolvePlaybookFile(ref: string, cwd: string): string {
  const looksLikePath = ref.includes('/') || ref.includes(path.sep) || /\.ya?ml$/i.test(ref);
  if (looksLikePath) {
    const file = path.resolve(cwd, ref);
    if (!existsSync(file)) throw new UsageError(`playbook file ${ref} does not exist`);
    return file;
  }
  if (!PLAYBOOK_NAME.test(ref) || ref.includes('..')) {
    throw new UsageError(`"${ref}" is not a playbook name or path`, 'name a playbook (see migrate list) or give a path to a .yaml file');
  }
  for (const dir of [path.join(cwd, 'playbooks'), builtinPlaybookDir]) {
    for (const ext of ['.yaml', '.yml']) {
      const file = path.join(dir, ref + ext);
      if (existsSync(file)) return file;
    }
  }
  const known = listPlaybookNames(cwd);
  throw new UsageError(`no playbook named ${ref}`, known.length ? `known playbooks: ${known.join(', ')}` : 'give a path to a .yaml file');
}

/** Names of the playbooks in ./playbooks/ and the built-ins. */
export function listPlaybookNames(cwd: string): string[] {
  const names = new Set<string>();
  for (const dir of [path.join(cwd, 'playbooks'), builtinPlaybookDir]) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) if (/\.ya?ml$/.test(f)) names.add(f.replace(/\.ya?ml$/, ''));
  }
  return [...names].sort();
}

/** Reads and checks a playbook against the step types available (built-ins and plugins); every problem is reported at once, with file:line:col. */
export async function loadPlaybook(ref: string, cwd: string, stepTypes: StepTypes): Promise<LoadedPlaybook> {
  const file = resolvePlaybookFile(ref, cwd);
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read playbook ${ref}: ${err.code ?? err.message}`);
  });
  const display = path.relative(cwd, file) || file;
  return parsePlaybook(display.startsWith('..') ? file : display, text, ref, stepTypes);
}

/** Parses playbook text; `file` is only used in messages. The built-in step types unless others are given. */
export function parsePlaybook(file: string, text: string, ref = file, stepTypes: StepTypes = builtInStepTypes): LoadedPlaybook {
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    const before = text.slice(0, nul);
    const line = before.split('\n').length;
    throw new InvalidInputError([{ file, line, col: nul - before.lastIndexOf('\n'), message: 'not a text file (it contains NUL bytes)' }]);
  }
  const source = new YamlSource(file, text);
  const syntax = source.syntaxProblems();
  if (syntax.length) throw new InvalidInputError(syntax);

  const raw: unknown = source.toJS(100);
  const parsed = playbookSchema.safeParse(raw);
  if (!parsed.success) throw new InvalidInputError(zodProblems(source, parsed.error, []));
  const spec = parsed.data;

  const problems: InputProblem[] = [];
  const steps: LoadedPlaybook['steps'] = [];
  const seen = new Set<string>();
  let ownType = false;
  const scope: TemplateScope = {
    params: new Set(Object.keys(spec.params ?? {})),
    env: new Set(spec.env ?? []),
    steps: new Set(),
  };
  for (const [name, p] of Object.entries(spec.params ?? {})) {
    checkTemplates(source, ['params', name, 'default'], p.default, { ...scope, steps: new Set() }, problems);
    if (p.default !== undefined && p.enum && !p.enum.map(String).includes(String(p.default)) && !String(p.default).includes('${{')) {
      problems.push(source.problemAt(['params', name, 'default'], `default "${p.default}" is not one of ${p.enum.join(', ')}`));
    }
  }
  spec.steps.forEach((step, i) => {
    const at = ['steps', i];
    if (seen.has(step.id)) problems.push(source.problemAt([...at, 'id'], `duplicate step id "${step.id}"`));
    const type = stepTypes.get(step.uses);
    if (!type) {
      problems.push(source.problemAt([...at, 'uses'], `unknown step type "${step.uses}"; known types: ${[...stepTypes.keys()].sort().join(', ')}`));
      // kafka.topik is a typo; acme.backfill reads like a team's own type.
      const family = step.uses.split('.')[0];
      if (![...stepTypes.keys()].some((t) => t.split('.')[0] === family)) ownType = true;
    } else {
      steps.push({ spec: step, type });
    }
    checkTemplates(source, [...at, 'title'], step.title, scope, problems);
    checkTemplates(source, [...at, 'description'], step.description, scope, problems);
    checkTemplates(source, [...at, 'with'], step.with, scope, problems);
    seen.add(step.id);
    (scope.steps as Set<string>).add(step.id);
  });
  // Without plugins, an unknown type outside the built-in families may be a team's own: say where those come from.
  const hint = ownType && stepTypes === builtInStepTypes ? 'a step type of your own? list its plugin under plugins: in migrate.config.yaml (docs/writing-a-step-type.md)' : undefined;
  if (problems.length) throw new InvalidInputError(problems, hint);
  return { spec, file, ref, source, checksum: sha256(text), steps };
}

function checkTemplates(source: YamlSource, at: PropertyKey[], value: unknown, scope: TemplateScope, problems: InputProblem[]): void {
  if (typeof value === 'string') {
    const { refs, errors } = scanTemplates(value);
    for (const e of errors) problems.push(source.problemInScalar(at, value.slice(e.offset, e.offset + 3), e.message));
    for (const ref of refs) {
      const why = checkRef(ref, scope);
      if (why) problems.push(source.problemInScalar(at, ref.text, why));
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkTemplates(source, [...at, i], v, scope, problems));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) checkTemplates(source, [...at, k], v, scope, problems);
  }
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
