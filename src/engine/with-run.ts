import type { Config } from '../config.js';
import { KafkaNotConfiguredError } from '../errors.js';
import { bindPlaybook, maskSecrets, type BoundPlaybook, type BoundStep } from '../playbook/bind.js';
import { loadPlaybook, type LoadedPlaybook } from '../playbook/load.js';
import type { RunStore } from '../state/store.js';
import type { StepTypes } from '../steps/contract.js';
import { openServices, type OpenServices, type Services } from './services.js';

/** What `withRun` opens: where the playbook comes from, its params, and the world to reach. */
export interface WithRunOptions {
  cwd: string;
  config: Config;
  env?: Record<string, string | undefined> | undefined;
  /** A playbook name or path; or how to load the playbook a run used. */
  playbook: string | (() => Promise<LoadedPlaybook>);
  /** The step types playbooks may use: the built-ins and the configured plugins (steps/plugins.ts). */
  stepTypes: StepTypes;
  /** The params to bind it with; a function when they are known only once the playbook is loaded. */
  params: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  /** More checks of the bound playbook before anything is opened (an --approve step it lacks, ...). */
  validate?(bound: BoundPlaybook): void;
  /** The steps that will reach a service, so a setting they need is missed before anything opens (default: every step). */
  acting?(bound: BoundPlaybook): readonly BoundStep[];
  /** The world to reach; by default the configured services, opened here and closed after. */
  services?: Services | undefined;
}

/** The run whose lock `withRun` holds while it works: which store, and the run's name once the playbook is bound. */
export interface RunLockOptions {
  store: RunStore;
  name(bound: BoundPlaybook): string;
}

/** A bound playbook with its services open, for as long as the work runs. */
export interface OpenRun {
  bound: BoundPlaybook;
  services: Services;
  /** `value` with the playbook's secret values masked: for whatever leaves (events, state, results). */
  mask<T>(value: T): T;
}

/** An open run that also holds its run's lock. */
export interface LockedRun extends OpenRun {
  name: string;
  /** The store, masking secrets in every state written to it. */
  store: RunStore;
}

/**
 * The one lifecycle of run, plan and rollback: load the playbook, bind its params, check what the
 * steps need is configured, take the run's lock (when there is a run), open the services, do the
 * work, and close the services and release the lock however the work ends.
 */
export async function withRun<T>(o: WithRunOptions & { lock: RunLockOptions }, fn: (run: LockedRun) => Promise<T>): Promise<T>;
export async function withRun<T>(o: WithRunOptions, fn: (run: OpenRun) => Promise<T>): Promise<T>;
export async function withRun<T>(o: WithRunOptions & { lock?: RunLockOptions }, fn: (run: LockedRun) => Promise<T>): Promise<T> {
  const loaded = typeof o.playbook === 'string' ? await loadPlaybook(o.playbook, o.cwd, o.stepTypes) : await o.playbook();
  const bound = bindPlaybook(loaded, typeof o.params === 'function' ? await o.params() : o.params, o.env);
  o.validate?.(bound);
  if (!o.config.kafka && (o.acting?.(bound) ?? bound.steps).some((s) => s.type.needs?.includes('kafka'))) throw new KafkaNotConfiguredError();

  const name = o.lock?.name(bound) ?? '';
  const lock = await o.lock?.store.lock(name);
  let opened: OpenServices | undefined;
  const services = o.services ?? (opened = openServices(o.config, o.cwd));
  const mask = <V>(value: V): V => maskSecrets(bound, value);
  const store = o.lock?.store;
  try {
    // Without a lock (plan) the work is an OpenRun's: it never sees the empty name and store.
    return await fn({
      bound,
      services,
      mask,
      name,
      // Secret values never reach the state, even when a step repeats one in a summary.
      store: store && { read: (n) => store.read(n), list: () => store.list(), lock: (n) => store.lock(n), write: (s) => store.write(mask(s)) },
    } as LockedRun);
  } finally {
    // Never hide the work's own error behind a cleanup failure.
    await opened?.close();
    await lock?.release().catch(() => undefined);
  }
}
