// Part of `npm run build`, after tsc: bundles the CLI that bin/migrate runs (dist/bundle/cli.js and
// its chunks) from tsc's dist/cli.js with esbuild. Why: Node loads each ES module as a file of its
// own (resolve, read, compile, link), and `migrate status` alone loaded some 130 of them; a handful
// of chunks cost less on every Node line. Code splitting keeps the commands' dynamic imports lazy:
// `--help` loads the chunk of the program and commander, `run` the engine's, and so on.
//
// Left out of the bundle, and loaded from node_modules as before (`external`):
//   kafkajs      the adapter reaches into its internals by require() (src/adapters/kafka-internals.ts),
//                which must find the very modules the client runs
//   ajv*, undici, @inquirer/prompts   not on the start-up path of any command; as published
// tsc's dist/ stays whole beside the bundle: the public API (package.json exports, dist/api.js and
// its .d.ts), the verify worker thread (dist/verify/check-worker.js) and the tests use it.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = path.join(root, 'dist/bundle');

await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, 'dist/cli.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['kafkajs', 'ajv', 'ajv/*', 'ajv-formats', 'ajv-draft-04', 'undici', '@inquirer/prompts'],
  // src/package-root.ts: a chunk in dist/bundle/ is two folders below the package.
  define: { MIGRATE_BUNDLE_TO_ROOT: '"../../"' },
  // The CommonJS packages bundled (commander) call require() for Node's built-ins.
  banner: { js: "import { createRequire as __migrateCreateRequire } from 'node:module'; const require = __migrateCreateRequire(import.meta.url);" },
  // Not minified: measured, it saved nothing above the noise (1-3 ms of CPU), and a bug's stack trace stays readable.
  sourcemap: 'linked',
  logLevel: 'warning',
});
