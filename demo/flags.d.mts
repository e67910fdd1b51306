// Types for demo/flags.mjs (plain JS: the demo services run without a build).

/** How often the flag file (or Unleash's client API) is read. */
export declare const FLAG_POLL_MS: number;

export interface FlagWatcher {
  /** The current value of each watched flag: true = ON. */
  readonly values: Record<string, boolean>;
  /** Reads once, then keeps polling until stop(). */
  start(): Promise<void>;
  stop(): void;
}

/** Watches flags in a flagd-format file, or in Unleash's client API when env has DEMO_UNLEASH_URL and DEMO_UNLEASH_TOKEN. */
export declare function flagWatcher(
  file: string,
  keys: string[],
  onChange: (key: string, on: boolean) => void,
  env?: Record<string, string | undefined>,
): FlagWatcher;
