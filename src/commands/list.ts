import { existsSync } from 'node:fs';
import path from 'node:path';
import { formatProblem, InvalidInputError, MigrateError } from '../errors.js';
import { builtinPlaybookDir, listPlaybookNames, loadPlaybook } from '../playbook/load.js';
import type { StepTypes } from '../steps/contract.js';
import { loadStepTypes } from '../steps/plugins.js';
import { loadConfig } from '../config.js';
import type { CommonOptions, FlagsOf } from './options.js';

/** Options of `migrate list`; --names prints names only, one a line (for shell completion). */
export interface ListCommandOptions extends CommonOptions, FlagsOf<'list'> {}

/** One playbook as `migrate list` shows it. */
export interface PlaybookListing {
  name: string;
  /** built-in, or local (./playbooks/, which shadows a built-in of the same name). */
  source: 'built-in' | 'local';
  file: string;
  description?: string;
  params: { name: string; required: boolean; default?: string | number | boolean; description?: string }[];
  steps: number;
  /** Set when the file does not load: what is wrong with it. */
  problems?: string[];
}

/** Every playbook in ./playbooks/ and the built-ins, with its description, params and step count. */
export async function listPlaybooks(cwd: string, stepTypes: StepTypes): Promise<PlaybookListing[]> {
  const out: PlaybookListing[] = [];
  for (const name of listPlaybookNames(cwd)) {
    const find = (dir: string) => ['.yaml', '.yml'].map((ext) => path.join(dir, name + ext)).find((f) => existsSync(f));
    const local = find(path.join(cwd, 'playbooks'));
    const file = local ?? find(builtinPlaybookDir) ?? path.join(builtinPlaybookDir, `${name}.yaml`);
    const listing: PlaybookListing = { name, source: local ? 'local' : 'built-in', file: path.relative(cwd, file).startsWith('..') ? file : path.relative(cwd, file), params: [], steps: 0 };
    try {
      const { spec } = await loadPlaybook(name, cwd, stepTypes); // a name it cannot take is listed with why
      if (spec.description) listing.description = spec.description.trim().replace(/\s+/g, ' ');
      listing.params = Object.entries(spec.params ?? {}).map(([p, d]) => ({
        name: p,
        required: Boolean(d.required),
        ...(d.default !== undefined ? { default: d.default } : {}),
        ...(d.description ? { description: d.description } : {}),
      }));
      listing.steps = spec.steps.length;
    } catch (err) {
      if (!(err instanceof MigrateError)) throw err;
      listing.problems = err instanceof InvalidInputError ? err.problems.map(formatProblem) : [err.message];
    }
    out.push(listing);
  }
  return out;
}

/** `migrate list`: the playbooks a `run` can name. Always 0; a playbook that does not load is listed with its problem. */
export async function listCommand(o: ListCommandOptions): Promise<number> {
  if (o.names) {
    const names = listPlaybookNames(o.cwd);
    if (names.length) o.out.write(names.join('\n') + '\n');
    return 0;
  }
  const config = await loadConfig({ cwd: o.cwd, configPath: o.config });
  const playbooks = await listPlaybooks(o.cwd, await loadStepTypes(config.plugins, o.cwd));
  if (o.json) {
    o.out.write(JSON.stringify({ playbooks }) + '\n');
    return 0;
  }
  if (playbooks.length === 0) {
    o.out.write('No playbooks (put .yaml files in ./playbooks/)\n');
    return 0;
  }
  const width = Math.max(...playbooks.map((p) => p.name.length));
  for (const p of playbooks) {
    const what = p.problems ? `does not load: ${p.problems[0]}${p.problems.length > 1 ? ` (and ${p.problems.length - 1} more; see migrate validate ${p.name})` : ''}` : (p.description ?? '');
    o.out.write(`${p.name.padEnd(width)}  ${p.source === 'local' ? 'local   ' : 'built-in'}  ${what}\n`);
    if (!p.problems) {
      const params = p.params.map((x) => (x.required ? `${x.name}=…` : `[${x.name}]`)).join(' ');
      o.out.write(`${''.padEnd(width)}  ${''.padEnd(8)}  ${p.steps} steps${params ? `; params: ${params}` : ''}\n`);
    }
  }
  return 0;
}
