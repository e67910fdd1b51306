import type { z } from 'zod';
import type { FlagEvaluator, FlagProvider } from '../adapters/flags.js';
import type { KafkaCluster } from '../adapters/kafka.js';
import type { SchemaRegistry } from '../adapters/schemas.js';

/** What a step reports while the engine waits for it (lag, counts, ETA). */
export interface Progress {
  message: string;
  /** Numbers worth showing or recording, e.g. { lag: 120, ratePerSec: 40, etaMs: 3000 } */
  metrics?: Record<string, number>;
  /** Per-item detail, e.g. lag by partition */
  detail?: Record<string, number>;
}

/** The outcome of a read-only look at the world. */
export type Check =
  | { done: true; summary?: string; outputs?: Record<string, unknown> }
  | {
      done: false;
      summary: string;
      progress?: Progress;
      /** Not done, and not ready for apply yet (e.g. a group still has members): keep looking. */
      wait?: boolean;
      /**
       * With `wait`: what apply does is already so, only its effect has yet to show (flag.set: the
       * provider says on, the evaluation endpoint does not serve it yet). Apply would change nothing.
       */
      applied?: boolean;
      /**
       * What undo will need of the world as it is now, before apply changes it (flag.set: the
       * previous value). The engine saves it before calling apply and adds it to the step's
       * outputs, so it survives a crash between apply and the step's completion.
       */
      before?: Record<string, unknown>;
    };

/** What a step sees of the run and the outside world. */
export interface StepContext {
  run: string;
  step: string;
  signal: AbortSignal;
  /** The Kafka adapter, connected on first use. */
  kafka(): Promise<KafkaCluster>;
  /** The configured feature-flag provider. */
  flags(): Promise<FlagProvider>;
  /** Where applications are served flag values (OFREP, Unleash's client API), if configured. */
  flagEvaluator(): Promise<FlagEvaluator | undefined>;
  /** The configured schema registry. */
  schemas(): Promise<SchemaRegistry>;
  /** The working directory: relative paths in step params resolve against it. */
  cwd: string;
  /** Report progress during a wait; the engine turns it into an event. */
  progress(p: Progress): void;
  /** Scratch space kept across the polls of one execution of this step (not persisted). */
  memory: Record<string, unknown>;
  /** Milliseconds since the epoch; steps use it instead of Date.now() so tests can steer time. */
  now(): number;
  /** Runs `fn` when this execution of the step ends, however it ends (closing a reader, ...). */
  defer(fn: () => Promise<void>): void;
  /**
   * When the step's timeout runs out (ms since the epoch), for work the step must stop by then
   * itself (a child process); undefined where no timeout applies.
   */
  deadline?: number | undefined;
}

/** What `migrate plan` must know of a step type beyond its check. */
export interface PlanTraits<P> {
  /**
   * One look cannot judge the step: a run judges it while it waits, and `why` says so. `look: false`
   * when even checking would start something (a reader that counts events from that moment).
   */
  judgedOverTime?: { look: boolean; why: string };
  /** Why a check with these params could change the world, so plan does not look; undefined when a look is safe. */
  unsafeLook?(p: P): string | undefined;
}

/** A feature flag a step switched (or found as declared), as the step records it. */
export type FlagSwitchOutputs = {
  key: string;
  on: boolean;
  /** The flag before the switch; null when it did not exist; absent when the step found it as declared. */
  previous?: { enabled: boolean; value: unknown } | null | undefined;
  /** false when the provider already served the declared value. */
  changed?: boolean | undefined;
};

/** A schema version a step registered (or found registered), as the step records it. */
export type SchemaVersionOutputs = {
  event: string;
  version: number;
  /** Where it lives: a file path or a registry URL. */
  location: string;
  /** The registry's id, where it has one. */
  id?: number | undefined;
};

/** The kinds of outputs a report knows how to show, by name. */
export interface OutputKinds {
  'flag switch': FlagSwitchOutputs;
  'schema version': SchemaVersionOutputs;
}

/** What a step's recorded outputs are, and the schema to read them back with (a report does). */
export type StepOutputs = { [K in keyof OutputKinds]: { kind: K; schema: z.ZodType<OutputKinds[K]> } }[keyof OutputKinds];

/** One kind of step: idempotent, looks at the world before it acts. */
export interface StepType<P = unknown> {
  type: string;
  /** Validates the step's `with:` block before the run starts. */
  params: z.ZodType<P>;
  /** One line for plan and status. */
  describe(p: P): string;
  /** Does the world already satisfy this step? Read-only. Throws DriftError when it never can. */
  check(p: P, ctx: StepContext): Promise<Check>;
  /** Make it so. Absent for waits and verifications. May return outputs. */
  apply?(p: P, ctx: StepContext): Promise<Record<string, unknown> | void>;
  /** For rollback, where undo is meaningful; gets the outputs the step recorded when it ran. */
  undo?(p: P, ctx: StepContext, outputs: Record<string, unknown>): Promise<void>;
  /** Outside services the step talks to, so a missing setting is reported before the run starts. */
  needs?: readonly ('kafka' | 'flags' | 'schemas')[];
  /** A gate asks a person; the engine handles it instead of check/apply. */
  gate?: boolean;
  /** What plan must know beyond check (a step judged over time, a look that could change the world). */
  plan?: PlanTraits<P>;
  /** The type acts but has no undo: what rollback says stays as it is, in words an operator can act on. */
  irreversible?: string;
  /** What the step records in its outputs, for a report to read them typed. */
  outputs?: StepOutputs;
  /**
   * For a type whose params say whether it acts and can be undone (exec: its `apply` and `undo`
   * are optional params): what these params give. Without it, the `apply` and `undo` methods say.
   */
  provides?(p: P): { apply: boolean; undo: boolean };
  /** Defaults for the step's `timeout` and poll `interval`, in milliseconds. */
  timeoutMs: number;
  intervalMs: number;
  /** Where the type is documented (a URL); `migrate steps` shows it. Built-ins have docs/steps/<type>.md instead. */
  docs?: string;
}

/** Whether a step of this type, with these params, acts (apply) and can be undone (undo). */
export function stepProvides<P>(type: StepType<P>, p: P): { apply: boolean; undo: boolean } {
  return type.provides?.(p) ?? { apply: Boolean(type.apply), undo: Boolean(type.undo) };
}

/** Step types by the name a step's `uses` gives: the built-ins and the loaded plugins. */
export type StepTypes = ReadonlyMap<string, StepType<unknown>>;

/** Helps steps declare their type with full inference of P. */
export function defineStep<P>(step: StepType<P>): StepType<P> {
  return step;
}
