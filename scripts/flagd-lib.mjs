// A real flagd (the OpenFeature flag daemon) serving a flagd-format flag file, with its OFREP
// endpoint, for the tests of flag propagation. Built from flagd's released Go module through the
// Go module proxy, once, into the cache. Plain JS ESM on Node builtins only, so it runs before
// any build.
//
//   ensureFlagd({ log })                       -> path of the flagd binary (built once, cached)
//   startFlagd({ flagFile, dataDir, log })     -> handle { ofrepUrl, pid, ports, flagFile, stop() }
//   stopFlagdFromStateFile(dataDir)            -> stops the flagd recorded in <dataDir>/flagd.json
//
// Why not `go install github.com/open-feature/flagd/flagd@<version>`: the module proxy reachable
// here refuses flagd's version list (go install reads it to look for a deprecation notice), the
// flagd/core version flagd v0.16.0 names (v0.15.6), and every version of one dependency,
// github.com/open-feature/open-feature-operator/api, used only by flagd's Kubernetes sync.
// So scripts/flagd/ is a small Go module that requires flagd v0.16.0 with core v0.16.0 and puts
// a stub in place of that one package (scripts/flagd/operator-api-stub); its go.sum pins every
// module's hash, so a build checks each download against it. See docs/flags/ofrep.md.
//
// Types: scripts/flagd-lib.d.mts.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { cacheRoot, freePorts } from './kafka-lib.mjs';
import { killGroup, pidAlive, sleep } from './process-lib.mjs';

/** Keep in step with scripts/flagd/go.mod. */
export const FLAGD_VERSION = 'v0.16.0';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MODULE_DIR = path.join(HERE, 'flagd');
const MODULE_FILES = ['go.mod', 'go.sum', 'tools.go', 'operator-api-stub/go.mod', 'operator-api-stub/core/v1beta1/stub.go'];
const HOST = '127.0.0.1';
const STATE_FILE = 'flagd.json';
const LOG_FILE = 'flagd.log';
const DEFAULT_BUILD_TIMEOUT_MS = 15 * 60_000;
const DEFAULT_START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

const noop = () => {};

// ---------------------------------------------------------------------------------------------
// Binary

/**
 * Builds flagd into `<cache>/flagd-<version>/flagd` the first time and returns its path. A marker
 * holding a hash of scripts/flagd/ decides whether the binary there is current; the build goes to
 * a private file first and is renamed into place, so two builds at once never see half a binary.
 */
export async function ensureFlagd({ log = noop, timeoutMs = DEFAULT_BUILD_TIMEOUT_MS } = {}) {
  if (process.env.MIGRATE_FLAGD_BIN) return process.env.MIGRATE_FLAGD_BIN;
  const dir = path.join(cacheRoot(), `flagd-${FLAGD_VERSION}`);
  const bin = path.join(dir, 'flagd');
  const marker = path.join(dir, 'flagd.complete');
  const hash = await moduleHash();
  if (await markerMatches(marker, hash, bin)) return bin;

  await mkdir(dir, { recursive: true });
  const staging = path.join(dir, `flagd.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  log(`building flagd ${FLAGD_VERSION} from the Go module proxy into ${bin} (first run only; a few minutes on 2 cores)`);
  const started = Date.now();
  try {
    await runGo(['build', '-trimpath', '-o', staging, 'github.com/open-feature/flagd/flagd'], timeoutMs);
    if (await markerMatches(marker, hash, bin)) return bin; // someone else finished first
    await rm(marker, { force: true });
    await rename(staging, bin);
    await writeFile(marker, `${hash}\n`);
    log(`built flagd in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return bin;
  } finally {
    await rm(staging, { force: true });
  }
}

async function moduleHash() {
  const h = createHash('sha256');
  for (const f of MODULE_FILES) h.update(f).update('\0').update(await readFile(path.join(MODULE_DIR, f))).update('\0');
  return h.digest('hex');
}

async function markerMatches(marker, hash, bin) {
  try {
    const [recorded, info] = await Promise.all([readFile(marker, 'utf8'), stat(bin)]);
    return recorded.trim() === hash && info.isFile();
  } catch {
    return false;
  }
}

function runGo(args, timeoutMs) {
  const go = process.env.GO || 'go';
  return new Promise((resolve, reject) => {
    let output = '';
    // -mod=readonly: go.sum must already name every module, so each download is checked against it.
    const env = { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -mod=readonly`.trim() };
    const child = spawn(go, args, { cwd: MODULE_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${go} (${err.message}); Go 1.25+ is needed to build flagd`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const tail = output.trim().split('\n').slice(-20).join('\n');
      const what = `${go} ${args.join(' ')} in ${MODULE_DIR} failed (${signal ?? `exit ${code}`})`;
      reject(new Error(tail ? `${what}:\n${tail}` : `${what} and printed nothing`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Server

/**
 * Starts flagd detached (its own process group) on free ports, serving `flagFile`
 * (`--uri file:<path>`), and resolves once its readiness probe answers 200 and the OFREP port
 * accepts connections. Writes `<dataDir>/flagd.json` and logs to `<dataDir>/flagd.log`.
 */
export async function startFlagd({ flagFile, dataDir, log = noop, timeoutMs = DEFAULT_START_TIMEOUT_MS }) {
  if (!flagFile) throw new Error('startFlagd: flagFile is required');
  if (!dataDir) throw new Error('startFlagd: dataDir is required');
  const bin = await ensureFlagd({ log });
  const file = path.resolve(flagFile);
  await stat(file).catch(() => {
    throw new Error(`startFlagd: the flag file ${file} does not exist (flagd watches an existing file)`);
  });
  await mkdir(dataDir, { recursive: true });
  const [port, managementPort, ofrepPort, syncPort] = await freePorts(4);
  const logPath = path.join(dataDir, LOG_FILE);
  const out = openSync(logPath, 'a');
  const started = Date.now();
  let child;
  try {
    child = spawn(
      bin,
      [
        'start',
        '--uri', `file:${file}`,
        '--port', String(port),
        '--management-port', String(managementPort),
        '--ofrep-port', String(ofrepPort),
        '--sync-port', String(syncPort),
      ],
      { detached: true, stdio: ['ignore', out, out] },
    );
  } finally {
    closeSync(out);
  }
  child.unref();
  const pid = child.pid;
  let exited = null;
  child.once('exit', (code, signal) => (exited = signal ?? `exit ${code}`));
  const ports = { port, managementPort, ofrepPort, syncPort };
  const ofrepUrl = `http://${HOST}:${ofrepPort}`;
  const state = { pid, ofrepUrl, ports, flagFile: file, version: FLAGD_VERSION, dataDir, log: logPath, startedAt: new Date(started).toISOString(), ready: false };
  await writeState(dataDir, state);

  const stop = () => killGroup(pid, () => pidAlive(pid), STOP_TIMEOUT_MS);
  try {
    for (;;) {
      if (exited) throw new Error(`flagd exited (${exited}) before it was ready`);
      if ((await ready(managementPort)) && (await accepts(ofrepPort))) break;
      if (Date.now() - started > timeoutMs) throw new Error(`flagd was not ready within ${timeoutMs} ms`);
      await sleep(50);
    }
  } catch (err) {
    await stop();
    const tail = await readFile(logPath, 'utf8').then((t) => t.trim().split('\n').slice(-15).join('\n'), () => '');
    throw new Error(`${err.message}; the end of ${logPath}:\n${tail}`, { cause: err });
  }
  await writeState(dataDir, { ...state, ready: true });
  log(`flagd ${FLAGD_VERSION} serving ${file}: OFREP at ${ofrepUrl} (ready in ${Date.now() - started} ms)`);
  return { ofrepUrl, pid, ports, flagFile: file, dataDir, startMs: Date.now() - started, stop };
}

/** `<dataDir>/flagd.json`, or null. */
export async function readFlagdState(dataDir) {
  try {
    return JSON.parse(await readFile(path.join(dataDir, STATE_FILE), 'utf8'));
  } catch {
    return null;
  }
}

/** The state of a live flagd of this dataDir whose OFREP port accepts connections, else null. */
export async function runningFlagd(dataDir) {
  const state = await readFlagdState(dataDir);
  if (!state || !isOurFlagd(state)) return null;
  return (await accepts(state.ports.ofrepPort)) ? state : null;
}

/** Stops the flagd recorded in `<dataDir>/flagd.json`; true if one was running. */
export async function stopFlagdFromStateFile(dataDir) {
  const state = await readFlagdState(dataDir);
  if (!state || !isOurFlagd(state)) return false;
  await killGroup(state.pid, () => pidAlive(state.pid), STOP_TIMEOUT_MS);
  return true;
}

/** The recorded pid is still that flagd (pids get reused): a flagd binary serving the recorded OFREP port. */
function isOurFlagd(state) {
  if (!Number.isInteger(state.pid) || state.pid <= 1 || !pidAlive(state.pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${state.pid}/cmdline`, 'utf8').split('\0');
    const port = cmdline.indexOf('--ofrep-port');
    return path.basename(cmdline[0] ?? '') === 'flagd' && port > 0 && cmdline[port + 1] === String(state.ports?.ofrepPort);
  } catch {
    return false; // no /proc: refuse to signal a pid we cannot identify
  }
}

async function writeState(dataDir, state) {
  const file = path.join(dataDir, STATE_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, file);
}

/** flagd's readiness probe (management port): 200 once its sync sources are ready. */
function ready(managementPort) {
  return new Promise((resolve) => {
    const req = http.get({ host: HOST, port: managementPort, path: '/readyz', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
  });
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

