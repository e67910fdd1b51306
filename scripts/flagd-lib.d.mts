// Types for scripts/flagd-lib.mjs (plain JS so it runs before any build).

export type FlagdLog = (message: string) => void;

/** The flagd release scripts/flagd/go.mod builds. */
export declare const FLAGD_VERSION: string;

/** A running flagd started by startFlagd(). */
export interface FlagdHandle {
  /** Base URL of its OFREP endpoint, `http://127.0.0.1:<port>`. */
  readonly ofrepUrl: string;
  /** flagd's pid (it leads its own process group). */
  readonly pid: number;
  readonly ports: { port: number; managementPort: number; ofrepPort: number; syncPort: number };
  /** The absolute path of the flag file it serves. */
  readonly flagFile: string;
  readonly dataDir: string;
  /** Milliseconds from spawn to ready. */
  readonly startMs: number;
  /** SIGTERM to its process group, up to 5 s, then SIGKILL. */
  stop(): Promise<void>;
}

/** The contents of `<dataDir>/flagd.json`. */
export interface FlagdState {
  pid: number;
  ofrepUrl: string;
  ports: { port: number; managementPort: number; ofrepPort: number; syncPort: number };
  flagFile: string;
  version: string;
  dataDir: string;
  log: string;
  startedAt: string;
  ready: boolean;
}

/** Builds flagd once into `<cache>/flagd-<version>/flagd` (or returns MIGRATE_FLAGD_BIN); returns its path. */
export declare function ensureFlagd(options?: { log?: FlagdLog; timeoutMs?: number }): Promise<string>;

/** Starts flagd on free ports serving `flagFile` (which must exist); resolves once it is ready. */
export declare function startFlagd(options: { flagFile: string; dataDir: string; log?: FlagdLog; timeoutMs?: number }): Promise<FlagdHandle>;

/** `<dataDir>/flagd.json`, or null. */
export declare function readFlagdState(dataDir: string): Promise<FlagdState | null>;

/** The state of a live flagd of this dataDir whose OFREP port accepts connections, else null. */
export declare function runningFlagd(dataDir: string): Promise<FlagdState | null>;

/** Stops the flagd recorded in `<dataDir>/flagd.json`; true if one was running. */
export declare function stopFlagdFromStateFile(dataDir: string): Promise<boolean>;
