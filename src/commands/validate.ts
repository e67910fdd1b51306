import { loadConfig } from '../config.js';
import { ExitCode, formatProblem, InvalidInputError, type InputProblem } from '../errors.js';
import { bindPlaybook, parseParamArgs } from '../playbook/bind.js';
import { loadPlaybook } from '../playbook/load.js';
import { loadStepTypes } from '../steps/plugins.js';
import type { CommonOptions, FlagsOf } from './options.js';

/** Options of `migrate validate`. */
export interface ValidateCommandOptions extends CommonOptions, FlagsOf<'validate'> {
  env?: Record<string, string | undefined>;
}

/** What `validate` found. */
export interface ValidateResult {
  file: string;
  playbook?: string;
  ok: boolean;
  steps?: number;
  problems: InputProblem[];
}

/** Loads and binds the playbook with the given params, as `run` would (with the config's plugins), touching nothing. */
export async function validatePlaybook(
  ref: string,
  o: { cwd: string; param: string[]; config?: string | undefined; env?: Record<string, string | undefined> },
): Promise<ValidateResult> {
  const params = parseParamArgs(o.param);
  let file = ref;
  try {
    const config = await loadConfig({ cwd: o.cwd, configPath: o.config, ...(o.env ? { env: o.env } : {}) });
    const loaded = await loadPlaybook(ref, o.cwd, await loadStepTypes(config.plugins, o.cwd));
    file = loaded.file;
    const bound = bindPlaybook(loaded, params, o.env);
    return { file, playbook: loaded.spec.name, ok: true, steps: bound.steps.length, problems: [] };
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err; // no such playbook, bad --param: usage errors, exit 2 at the boundary
    return { file: err.problems[0]?.file ?? file, ok: false, problems: err.problems };
  }
}

/** `migrate validate <playbook>`: 0 and "valid", or 2 with every problem as file:line:col. */
export async function validateCommand(ref: string, o: ValidateCommandOptions): Promise<number> {
  const result = await validatePlaybook(ref, o);
  if (o.json) {
    o.out.write(JSON.stringify(result) + '\n');
  } else if (result.ok) {
    o.out.write(`${result.file}: valid (playbook ${result.playbook}, ${result.steps} ${result.steps === 1 ? 'step' : 'steps'})\n`);
  } else {
    for (const p of result.problems) o.out.write(formatProblem(p) + '\n');
  }
  return result.ok ? 0 : ExitCode.badInput;
}
