// Types for scripts/junit-schema.mjs (plain JS so it runs before any build).

/** The pytest release whose source distribution carries junit-10.xsd. */
export declare const PYTEST_VERSION: string;

/** Fetches junit-10.xsd into the cache the first time (pip download from PyPI) and returns its path. */
export declare function ensureJunitSchema(o?: { log?: (message: string) => void }): Promise<string>;
