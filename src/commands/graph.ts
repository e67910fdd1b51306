import { loadConfig } from '../config.js';
import { InvalidInputError } from '../errors.js';
import { bindPlaybook, parseParamArgs } from '../playbook/bind.js';
import { loadPlaybook, type LoadedPlaybook } from '../playbook/load.js';
import { stepProvides, type StepType, type StepTypes } from '../steps/contract.js';
import { loadStepTypes } from '../steps/plugins.js';
import { renderMermaid, type GraphStep } from '../ui/graph.js';
import type { CommonOptions, FlagsOf } from './options.js';

/** Options of `migrate graph`. */
export interface GraphCommandOptions extends CommonOptions, FlagsOf<'graph'> {
  env?: Record<string, string | undefined>;
}

/** `params` when known: an exec step without `apply` is a wait. */
function kindOf(type: StepType<unknown>, params?: unknown): GraphStep['kind'] {
  if (type.gate) return 'gate';
  const acts = params === undefined ? Boolean(type.apply) : stepProvides(type, params).apply;
  return acts ? 'action' : 'wait';
}

/**
 * The playbook's steps for the graph. With --param the titles are expanded (and bad params are
 * bad input, as for run); without any, a playbook whose required params are missing is still
 * drawn, its titles showing their ${{ }} templates.
 */
export async function playbookGraph(
  ref: string,
  o: { cwd: string; param: string[]; stepTypes: StepTypes; env?: Record<string, string | undefined> },
): Promise<{ title: string; steps: GraphStep[] }> {
  const params = parseParamArgs(o.param);
  const loaded = await loadPlaybook(ref, o.cwd, o.stepTypes);
  try {
    const bound = bindPlaybook(loaded, params, o.env);
    return { title: loaded.spec.name, steps: bound.steps.map((s) => ({ id: s.spec.id, uses: s.spec.uses, title: s.title, kind: kindOf(s.type, s.params) })) };
  } catch (err) {
    if (!(err instanceof InvalidInputError) || Object.keys(params).length) throw err;
    return { title: loaded.spec.name, steps: unbound(loaded) };
  }
}

function unbound(loaded: LoadedPlaybook): GraphStep[] {
  return loaded.steps.map(({ spec, type }) => ({ id: spec.id, uses: spec.uses, title: spec.title ?? spec.id, kind: kindOf(type) }));
}

/** `migrate graph <playbook>`: a Mermaid flowchart of the steps, on stdout. */
export async function graphCommand(ref: string, o: GraphCommandOptions): Promise<number> {
  const config = await loadConfig({ cwd: o.cwd, configPath: o.config, ...(o.env ? { env: o.env } : {}) });
  const { title, steps } = await playbookGraph(ref, { ...o, stepTypes: await loadStepTypes(config.plugins, o.cwd) });
  o.out.write(renderMermaid(title, steps));
  return 0;
}
