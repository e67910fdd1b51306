#!/usr/bin/env node
// actionlint (rhysd/actionlint), the GitHub Actions workflow linter, built from its Go module
// through the Go module proxy once into the cache, the way scripts/flagd-lib.mjs builds flagd.
// Plain JS ESM on Node builtins only, so it runs before any build.
//
//   node scripts/actionlint.mjs build            builds it if missing; prints the binary's path (for CI, before the tests)
//   node scripts/actionlint.mjs [args...]        runs it: node scripts/actionlint.mjs examples/github/migrate.yml
//
// The binary goes to <cache>/actionlint-<version>/actionlint (cache: MIGRATE_CACHE_DIR, else
// $XDG_CACHE_HOME/migrate, else ~/.cache/migrate); MIGRATE_ACTIONLINT_BIN names another one.
// actionlint runs shellcheck on `run:` scripts when shellcheck is on the PATH (.ci/run installs it).

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { cacheRoot } from './kafka-lib.mjs';
import { exists } from './process-lib.mjs';

/** The release built; the Go module proxy serves it. */
export const ACTIONLINT_VERSION = 'v1.7.12';
const MODULE = 'github.com/rhysd/actionlint/cmd/actionlint';
const BUILD_TIMEOUT_MS = 10 * 60_000;

/** Builds actionlint into the cache the first time and returns its path. */
export async function ensureActionlint({ log = () => {} } = {}) {
  if (process.env.MIGRATE_ACTIONLINT_BIN) return process.env.MIGRATE_ACTIONLINT_BIN;
  const dir = path.join(cacheRoot(), `actionlint-${ACTIONLINT_VERSION}`);
  const bin = path.join(dir, 'actionlint');
  if (await exists(bin)) return bin;
  // go install writes into GOBIN; a private one, renamed into place, so two builds at once never see half a binary.
  const staging = path.join(dir, `partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(staging, { recursive: true });
  log(`building actionlint ${ACTIONLINT_VERSION} from the Go module proxy into ${bin} (first run only)`);
  const started = Date.now();
  try {
    await runGo(['install', `${MODULE}@${ACTIONLINT_VERSION}`], { ...process.env, GOBIN: staging });
    if (!(await exists(bin))) await rename(path.join(staging, 'actionlint'), bin);
    log(`built actionlint in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return bin;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}


function runGo(args, env) {
  const go = process.env.GO || 'go';
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn(go, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${go} (${err.message}); Go is needed to build actionlint`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      reject(new Error(`${go} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${output.trim().split('\n').slice(-20).join('\n')}`));
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const log = (m) => process.stderr.write(`[actionlint] ${m}\n`);
  try {
    const bin = await ensureActionlint({ log });
    if (args[0] === 'build') {
      process.stdout.write(`${bin}\n`);
    } else {
      const child = spawn(bin, args, { stdio: 'inherit' });
      child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
    }
  } catch (err) {
    log(err.message);
    process.exit(1);
  }
}
