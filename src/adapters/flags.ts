/**
 * Feature-flag providers: where the switch of a migration lives. Steps see this interface;
 * the embedded default is a flagd-format JSON flag file (flags-file.ts).
 */

/** A flag as the provider reports it. */
export interface FlagState {
  key: string;
  /** The provider knows the flag and it is enabled (flagd: state ENABLED). */
  enabled: boolean;
  /** What applications are served by default: true/false for a boolean flag. */
  value: unknown;
  /** flagd: the default variant's name. */
  variant?: string;
}

/** Reads and switches flags. */
export interface FlagProvider {
  /** e.g. "file flags.json" — for messages. */
  readonly description: string;
  /** The flag, or undefined when the provider does not know it. */
  get(key: string): Promise<FlagState | undefined>;
  /** Serves `on` by default from now on; returns what was served before (for rollback). */
  set(key: string, on: boolean): Promise<{ previous: FlagState | undefined; changed: boolean }>;
}

/** Is the flag on: known, enabled, and serving true. */
export function isOn(flag: FlagState | undefined): boolean {
  return Boolean(flag?.enabled && flag.value === true);
}

/**
 * Where applications are served flag values: an evaluation endpoint (OFREP, Unleash's client
 * API). flag.set waits on it after switching, so "switched" means applications see it.
 */
export interface FlagEvaluator {
  /** e.g. "OFREP at http://127.0.0.1:8016" — for messages. */
  readonly description: string;
  /** The value served now, or undefined when the endpoint does not know the flag. */
  evaluate(key: string): Promise<{ value: unknown } | undefined>;
}
