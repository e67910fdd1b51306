// Types for scripts/registry-lib.mjs (plain JS so it runs before any build).

export type RegistryLog = (message: string) => void;

/** The Apicurio Registry release fetched from Maven Central. */
export declare const APICURIO_VERSION: string;

/** A running Apicurio Registry started by startRegistry(). */
export interface RegistryHandle {
  /** The Confluent-compatible API's base, `http://127.0.0.1:<port>/apis/ccompat/v7`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  readonly port: number;
  readonly managementPort: number;
  /** The JVM's pid; it leads its own process group. */
  readonly pid: number;
  readonly dataDir: string;
  /** Milliseconds from spawning the JVM to the API answering. */
  readonly startMs: number;
  /** SIGTERM to the process group, up to 15 s, then SIGKILL. The registry is in memory: its data goes. */
  stop(): Promise<void>;
}

/** The contents of `<dataDir>/registry.json`. */
export interface RegistryState {
  pid: number;
  url: string;
  baseUrl: string;
  port: number;
  managementPort: number;
  startedAt: string;
  ready: boolean;
  version: string;
  dataDir: string;
  log: string;
}

export interface StartRegistryOptions {
  /** Where its files go: config/application.properties, registry.out, registry.json. */
  dataDir: string;
  log?: RegistryLog;
  /** Turns on HTTP basic auth with these users ({ name: password }). */
  users?: Record<string, string>;
  /** How long to wait for the API to answer; default 120 000 ms. */
  timeoutMs?: number;
}

/** Fetches and unpacks the registry once into the cache; returns the directory with quarkus-run.jar. */
export declare function ensureApicurio(options?: { log?: RegistryLog }): Promise<string>;

/** A java binary of version 21+, or an error naming what was found. */
export declare function findRegistryJava(): string;

/** Starts a registry and resolves when its API answers; rejects with its log's tail if not within timeoutMs. */
export declare function startRegistry(options: StartRegistryOptions): Promise<RegistryHandle>;

/** `<dataDir>/registry.json`, or null. */
export declare function readRegistryState(dataDir: string): Promise<RegistryState | null>;

/** The state of a live registry of this dataDir that answers, else null. */
export declare function runningRegistry(dataDir: string): Promise<RegistryState | null>;

/** Stops the registry recorded in `<dataDir>/registry.json`; true if one was running. */
export declare function stopRegistryFromStateFile(dataDir: string, options?: { timeoutMs?: number }): Promise<boolean>;

/**
 * Whether a GET of `url` (the ccompat subjects list) answers as the registry does: 200 with a
 * JSON array, or 401 when `auth` is on. Another server on the port (a 404) is not the registry.
 */
export declare function servesSubjects(url: string, auth: boolean, timeoutMs?: number): Promise<boolean>;
