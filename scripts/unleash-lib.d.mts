// Types for scripts/unleash-lib.mjs (plain JS so it runs before any build).

export type UnleashLog = (message: string) => void;

/** The unleash-server version installed into the cache (the 7.5.x line runs on Node 20). */
export declare const UNLEASH_VERSION: string;

/** A private PostgreSQL cluster started by startPostgres(). */
export interface PostgresHandle {
  readonly port: number;
  /** The pid of the process group leader (runuser when run as root). */
  readonly pid: number;
  readonly pgdata: string;
  /** postgres://unleash@127.0.0.1:<port>/unleash (trust auth: no password). */
  readonly databaseUrl: string;
  /** Fast shutdown (SIGINT to its process group), SIGKILL after 15 s. Keeps the data. */
  stop(): Promise<void>;
}

/** A running Unleash started by startUnleash(). The tokens exist only in this object. */
export interface UnleashHandle {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** An admin API token, `*:*.<hex>`. */
  readonly adminToken: string;
  /** A backend (client) API token for environment development, `*:development.<hex>`. */
  readonly clientToken: string;
  /** A backend token per environment of the default project (development, production). */
  readonly clientTokens: Record<string, string>;
  readonly postgres: PostgresHandle;
  readonly dataDir: string;
  /** Stops Unleash, then PostgreSQL. Keeps the data dir. */
  stop(): Promise<void>;
}

/** `<dataDir>/unleash.json`: pids and ports, never tokens. */
export interface UnleashState {
  postgres?: { pid: number; port: number; ready: boolean };
  unleash?: { pid: number; port: number; url: string; version: string; ready: boolean };
  dataDir: string;
  writtenAt: string;
}

/** Installs unleash-server once into `<cache>/unleash-server-<version>`; returns that directory. */
export declare function ensureUnleashServer(options?: { log?: UnleashLog }): Promise<string>;

/** Where initdb and postgres are: MIGRATE_PG_BIN, the newest /usr/lib/postgresql/N/bin, or pg_config --bindir. */
export declare function postgresBinDir(): string;

/** Starts (creating on first use) a cluster in `<dataDir>/pgdata` with role and database `unleash`. */
export declare function startPostgres(options: { dataDir: string; log?: UnleashLog; port?: number; timeoutMs?: number }): Promise<PostgresHandle>;

/** Starts PostgreSQL and Unleash under `dataDir`; resolves when the admin API takes the admin token. */
export declare function startUnleash(options: { dataDir: string; log?: UnleashLog; timeoutMs?: number }): Promise<UnleashHandle>;

export declare function readUnleashState(dataDir: string): Promise<UnleashState | null>;

/** The state of a live, ready Unleash of this dataDir, else null. */
export declare function runningUnleash(dataDir: string): Promise<UnleashState | null>;

/** Stops what `<dataDir>/unleash.json` records; true if anything was running. */
export declare function stopUnleashFromStateFile(dataDir: string, options?: { timeoutMs?: number }): Promise<boolean>;
