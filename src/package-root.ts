// Where migrate's own files are (package.json, playbooks/, docs/, dist/), found from this module's
// URL. Compiled by tsc this module is dist/package-root.js (src/package-root.ts under vitest), one
// folder below the package; in the bundle that bin/migrate runs (scripts/bundle.mjs) it is part of a
// chunk in dist/bundle/, two folders below, and the bundler defines MIGRATE_BUNDLE_TO_ROOT to say so.
// Every file the CLI finds next to itself is found from here, so that both layouts find the same files.

declare const MIGRATE_BUNDLE_TO_ROOT: string | undefined;

/** The package's folder, as a file: URL ending in "/". */
export const packageRoot: URL = new URL(typeof MIGRATE_BUNDLE_TO_ROOT === 'string' ? MIGRATE_BUNDLE_TO_ROOT : '../', import.meta.url);
