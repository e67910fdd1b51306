// A bound playbook built in code, for tests that hand the engine (executeRun, planSteps) step
// types of their own: what loadPlaybook + bindPlaybook would produce for a YAML file, without a
// file and without the step registry.
import { stringify } from 'yaml';
import type { BoundPlaybook, BoundStep } from '../../src/playbook/bind.js';
import type { LoadedPlaybook } from '../../src/playbook/load.js';
import type { PlaybookSpec, StepSpec } from '../../src/playbook/schema.js';
import { YamlSource } from '../../src/util/yaml-source.js';
import type { StepType } from '../../src/steps/contract.js';

/** One step of a test playbook. `P` ties the params to the step type. */
export interface TestStep<P = unknown> {
  id: string;
  type: StepType<P>;
  /** Params as bound before the run; leave out (and give `with`) for a step that reads outputs of earlier steps. */
  params?: P;
  with?: Record<string, unknown>;
  /** Defaults to the id. */
  title?: string;
  /** The step's `timeout:` and `interval:`, in milliseconds. */
  timeout?: number;
  interval?: number;
}

/** The playbook around the steps; every field has a default. */
export interface TestPlaybookOptions {
  /** The playbook's name; its file is `<name>.yaml`. Default `test`. */
  name?: string;
  checksum?: string;
  params?: Record<string, string>;
  /** Names of params marked secret. */
  secret?: readonly string[];
  env?: Record<string, string | undefined>;
}

/** A bound playbook of the given steps, as bindPlaybook would hand it to the engine. */
export function boundPlaybook(steps: readonly TestStep[], options: TestPlaybookOptions = {}): BoundPlaybook {
  const name = options.name ?? 'test';
  const specs: StepSpec[] = steps.map((s) => ({
    id: s.id,
    uses: s.type.type,
    ...(s.with ? { with: s.with } : {}),
    ...(s.timeout !== undefined ? { timeout: s.timeout } : {}),
    ...(s.interval !== undefined ? { interval: s.interval } : {}),
  }));
  const spec: PlaybookSpec = { name, steps: specs };
  const file = `${name}.yaml`;
  const loaded: LoadedPlaybook = {
    spec,
    file,
    ref: name,
    source: new YamlSource(file, stringify(spec)),
    checksum: options.checksum ?? 'x',
    steps: steps.map((s, i) => ({ spec: specs[i] as StepSpec, type: s.type })),
  };
  const bound: BoundStep[] = steps.map((s, i) => ({
    spec: specs[i] as StepSpec,
    type: s.type,
    title: s.title ?? s.id,
    ...('params' in s ? { params: s.params } : {}),
  }));
  return { loaded, params: options.params ?? {}, secretParams: new Set(options.secret ?? []), env: options.env ?? {}, steps: bound };
}
