// Part of `npm run build`, after tsc: bundles the CLI that bin/migrate runs (dist/bundle/cli.js and
// its chunks) from tsc's dist/cli.js with esbuild. Why: Node loads each ES module as a file of its
// own (resolve, read, compile, link), and `migrate status` alone loaded some 130 of them; a handful
// of chunks cost less on every Node line. Code splitting keeps the commands' dynamic imports lazy:
// `--help` loads the chunk of the program and commander, `run` the engine's, and so on.
//
// kafkajs (CommonJS, some 170 files) is bundled too: src/adapters/kafka-internals.ts imports the
// internals it patches, so the bundle holds one copy of it. Left out, and loaded from node_modules
// as published: ajv*, undici and @inquirer/prompts, on no command's start-up path.
// tsc's dist/ stays whole beside the bundle: the public API (package.json exports, dist/api.js and
// its .d.ts), the verify worker thread (dist/verify/check-worker.js) and the tests use it.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = path.join(root, 'dist/bundle');

/**
 * zod's `locales` namespace holds its error messages in some 50 languages, half of zod's code (370
 * of 755 KB), and `import { z }` keeps all of them. migrate writes its messages in English only
 * (zod's default, `en`): the bundle's copy of zod gets that one. Plugins are not affected: they
 * import 'migrate' (dist/api.js), which uses zod as published.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: path.dirname(args.path),
    }));
  },
};

await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: [path.join(root, 'dist/cli.js')],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['ajv', 'ajv/*', 'ajv-formats', 'ajv-draft-04', 'undici', '@inquirer/prompts'],
  // src/package-root.ts: a chunk in dist/bundle/ is two folders below the package.
  define: { MIGRATE_BUNDLE_TO_ROOT: '"../../"' },
  // The CommonJS packages bundled (commander, kafkajs) require() Node's built-ins, and only those
  // (everything else they require is in the bundle). process.getBuiltinModule (Node 20.16+) gives
  // them without a createRequire(import.meta.url) in every chunk (measured: ~4 ms of `status`).
  banner: { js: "const require = (id) => { const m = process.getBuiltinModule(id); if (m === undefined) throw new Error('not in the bundle: ' + id); return m; };" },
  // Not minified: measured, it saved nothing above the noise (1-3 ms of CPU), and a bug's stack trace stays readable.
  sourcemap: 'linked',
  plugins: [zodEnglishOnly],
  logLevel: 'warning',
});
