#!/usr/bin/env node
// The project's tests and demo on another Node.js version, a real binary from the npm registry
// (scripts/node-lib.mjs: pinned, cached in ~/.cache/migrate/node-<version>).
//
//   node scripts/node-versions.mjs path <line>     fetches it once; prints the path of its node binary
//   node scripts/node-versions.mjs test <line> [--project P]... [--no-demo]
//        builds dist/ and runs vitest (projects unit and kafka unless --project says otherwise)
//        and `npm run demo` on that Node, with its directory first on PATH so that anything the
//        tests start as `node` runs on it too (they start bin/migrate with process.execPath)
//
// <line> is 24, 22 (or 18, an old Node) or a pinned exact version. Exit code: 0 when every part
// passed, 1 otherwise, 2 on bad usage.

import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { ensureNode, NODE_VERSIONS } from './node-lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const log = (message) => process.stderr.write(`node-versions: ${message}\n`);
const usage = `usage: node scripts/node-versions.mjs path <line> | test <line> [--project P]... [--no-demo]   (lines: ${Object.keys(NODE_VERSIONS).join(', ')})`;

/** Runs a command with the given env, output inherited; its exit code and seconds taken. */
function run(command, args, env) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (err) => {
      log(`cannot run ${command}: ${err.message}`);
      resolve({ code: 1, seconds: (Date.now() - started) / 1000 });
    });
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), seconds: (Date.now() - started) / 1000 }));
  });
}

async function test(line, projects, demo) {
  const node = await ensureNode(line, { log });
  const env = { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}` };
  // The version as the tests will see it: the binary itself, and `node` as PATH resolves it.
  const own = spawnSync(node, ['-p', 'process.version'], { encoding: 'utf8' }).stdout.trim();
  const onPath = spawnSync('node', ['-p', 'process.execPath + " " + process.version'], { env, encoding: 'utf8' }).stdout.trim();
  log(`Node.js ${own} at ${node}; \`node\` on PATH: ${onPath}`);

  const parts = [
    ['build', node, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']],
    [`vitest ${projects.join(', ')}`, node, [path.join(root, 'node_modules/vitest/vitest.mjs'), 'run', ...projects.flatMap((p) => ['--project', p])]],
    ...(demo ? [['demo', node, [path.join(root, 'scripts/demo.mjs')]]] : []),
  ];
  const results = [];
  for (const [name, command, args] of parts) {
    log(`${name} on Node.js ${own}`);
    const result = await run(command, args, env);
    results.push({ name, ...result });
    if (name === 'build' && result.code !== 0) break; // the rest would run stale or missing code
  }
  for (const r of results) log(`${r.code === 0 ? 'passed' : `FAILED (exit ${r.code})`}  ${r.name} on Node.js ${own} (${r.seconds.toFixed(0)} s)`);
  return results.length === parts.length && results.every((r) => r.code === 0) ? 0 : 1;
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { project: { type: 'string', multiple: true }, 'no-demo': { type: 'boolean' } } });
  } catch (err) {
    log(`${err.message}\n${usage}`);
    return 2;
  }
  const [command, line, ...rest] = parsed.positionals;
  if (!line || rest.length || !['path', 'test'].includes(command)) {
    log(usage);
    return 2;
  }
  try {
    if (command === 'path') {
      process.stdout.write(`${await ensureNode(line, { log })}\n`);
      return 0;
    }
    return await test(line, parsed.values.project ?? ['unit', 'kafka'], !parsed.values['no-demo']);
  } catch (err) {
    log(err.message);
    return err.message.startsWith('no pinned Node.js') ? 2 : 1;
  }
}

process.exitCode = await main();
