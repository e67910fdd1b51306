// A real Apicurio Registry (its Confluent-compatible API under /apis/ccompat/v7), run from the
// io.apicurio:apicurio-registry-app tarball on Maven Central: no Docker, no registry install.
// In-memory storage (H2), so every start is an empty registry. Plain JS ESM on Node builtins
// only, so it runs before any build.
//
//   ensureApicurio({ log })                    -> directory holding quarkus-run.jar (fetched once, cached)
//   findRegistryJava()                         -> a java binary of version 21+ (Apicurio 3.3 needs it)
//   startRegistry({ dataDir, log, users })     -> handle { url, baseUrl, port, pid, stop() }
//   stopRegistryFromStateFile(dataDir)         -> stops the registry recorded in <dataDir>/registry.json
//
// Types: scripts/registry-lib.d.mts.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

import { cacheRoot, freePorts } from './kafka-lib.mjs';
import { killGroup, pidAlive, sleep } from './process-lib.mjs';

/** The Apicurio Registry release fetched from Maven Central. */
export const APICURIO_VERSION = '3.3.3';
const ARTIFACT = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const MIN_JAVA = 21; // the 3.3 jars are class file version 65
const HOST = '127.0.0.1';
const CCOMPAT_PATH = '/apis/ccompat/v7';
const STATE_FILE = 'registry.json';
const STDOUT_LOG = 'registry.out';
const DEFAULT_START_TIMEOUT_MS = 120_000;
const DEFAULT_STOP_TIMEOUT_MS = 15_000;

// Start-up over peak throughput, as for the test broker: C1 only, the serial collector, a small
// heap, and a class-data-sharing archive that the JVM writes into the cache when it first exits
// and maps on later starts (JDK 19+; a stale one is rewritten, by unlinking first, so a JVM
// mapping the old one is safe). Measured here (2 cores, loaded): 12-14 s with the JVM's
// defaults, 4.6-6 s with the flags, 2.8-3 s with the archive too. MIGRATE_REGISTRY_JVM_OPTS
// (space-separated) replaces them all.
function jvmFlags(app, java) {
  if (process.env.MIGRATE_REGISTRY_JVM_OPTS !== undefined) return process.env.MIGRATE_REGISTRY_JVM_OPTS.split(/\s+/).filter(Boolean);
  const archive = path.join(path.dirname(app), `cds-java${javaMajor(path.dirname(path.dirname(java))) ?? 'x'}.jsa`);
  return ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xms128m', '-Xmx512m', '-Djava.awt.headless=true', '-XX:+AutoCreateSharedArchive', `-XX:SharedArchiveFile=${archive}`, '-Xshare:auto', '-Xlog:cds=off', '-Xlog:cds+dynamic=off'];
}

const noop = () => {};

// ---------------------------------------------------------------------------------------------
// The application

/**
 * Fetches the registry tarball with Maven into `<cache>/apicurio-registry-<version>/app` the
 * first time (unpacked there), and returns that directory. A marker written after a complete
 * unpack decides whether it is there; a half-done one is done again.
 */
export async function ensureApicurio({ log = noop } = {}) {
  const base = path.join(cacheRoot(), `apicurio-registry-${APICURIO_VERSION}`);
  const app = path.join(base, 'app');
  const marker = path.join(base, 'app.complete');
  if (await isComplete(marker, app)) return app;

  await mkdir(base, { recursive: true });
  // A private staging directory, moved into place when complete: two processes fetching at once
  // never see each other's half-unpacked copy.
  const staging = path.join(base, `partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  log(`fetching Apicurio Registry ${APICURIO_VERSION} from Maven Central into ${app} (first run only)`);
  const started = Date.now();
  try {
    await mkdir(staging, { recursive: true });
    await run(process.env.MVN || 'mvn', ['-q', '-B', `${DEPENDENCY_PLUGIN}:copy`, `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${staging}`], {
      cwd: staging,
      what: 'Maven 3.8+ is needed to fetch Apicurio Registry',
    });
    const tarball = path.join(staging, `apicurio-registry-app-${APICURIO_VERSION}-all.tar.gz`);
    const unpacked = path.join(staging, 'app');
    await mkdir(unpacked);
    await run('tar', ['-xzf', tarball, '-C', unpacked], { cwd: staging, what: 'tar is needed to unpack it' });
    if (!existsSync(path.join(unpacked, 'quarkus-run.jar'))) throw new Error(`${tarball} holds no quarkus-run.jar`);
    if (await isComplete(marker, app)) return app; // someone else finished first
    await rm(marker, { force: true });
    await rm(app, { recursive: true, force: true });
    await rename(unpacked, app);
    await writeFile(marker, `${APICURIO_VERSION}\n`);
    log(`fetched and unpacked in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return app;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function isComplete(marker, app) {
  try {
    const [recorded, info] = await Promise.all([readFile(marker, 'utf8'), stat(path.join(app, 'quarkus-run.jar'))]);
    return recorded.trim() === APICURIO_VERSION && info.isFile();
  } catch {
    return false;
  }
}

/**
 * A java binary of version 21 or later. Looks at MIGRATE_REGISTRY_JAVA_HOME, JAVA_HOME, the
 * `java` on PATH, then every JDK under /usr/lib/jvm (newest first): the machine's default Java
 * may be 17, with a newer JDK installed beside it.
 */
export function findRegistryJava() {
  const homes = [];
  if (process.env.MIGRATE_REGISTRY_JAVA_HOME) homes.push(process.env.MIGRATE_REGISTRY_JAVA_HOME);
  if (process.env.JAVA_HOME) homes.push(process.env.JAVA_HOME);
  const onPath = whichJava();
  if (onPath) homes.push(path.dirname(path.dirname(onPath)));
  try {
    const jvms = readdirSync('/usr/lib/jvm').map((d) => path.join('/usr/lib/jvm', d));
    homes.push(...jvms.sort((a, b) => (javaMajor(b) ?? 0) - (javaMajor(a) ?? 0)));
  } catch {
    // no /usr/lib/jvm
  }
  const seen = [];
  for (const home of homes) {
    const major = javaMajor(home);
    const java = path.join(home, 'bin', 'java');
    if (major !== undefined) seen.push(`${home} (${major})`);
    if (major !== undefined && major >= MIN_JAVA && existsSync(java)) return java;
  }
  throw new Error(
    `Apicurio Registry ${APICURIO_VERSION} needs Java ${MIN_JAVA}+; found ${seen.length ? [...new Set(seen)].join(', ') : 'none'}` +
      '; install one and point MIGRATE_REGISTRY_JAVA_HOME at it',
  );
}

/** The major version a JDK's `release` file declares, or undefined. */
function javaMajor(home) {
  try {
    const release = readFileSync(path.join(home, 'release'), 'utf8');
    const version = /^JAVA_VERSION="(\d+)(?:\.(\d+))?/m.exec(release);
    if (!version) return undefined;
    return version[1] === '1' ? Number(version[2]) : Number(version[1]);
  } catch {
    return undefined;
  }
}

function whichJava() {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'java');
    if (dir && existsSync(candidate)) {
      try {
        return realpathSync(candidate);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The server

/**
 * Starts a registry whose files live under `dataDir` and resolves once its ccompat API answers.
 * `users` ({ name: password }) turns on HTTP basic auth with those users (Quarkus's embedded
 * user realm, which the registry app is built with): every API call then needs credentials.
 * They are written to `<dataDir>/config/application.properties` (mode 0600), never on the
 * command line where `ps` shows them.
 */
export async function startRegistry({ dataDir, log = noop, users, timeoutMs } = {}) {
  if (!dataDir) throw new Error('startRegistry: dataDir is required');
  dataDir = path.resolve(dataDir);
  await mkdir(dataDir, { recursive: true });
  const [app, java] = await Promise.all([ensureApicurio({ log }), Promise.resolve().then(findRegistryJava)]);
  await writeProperties(dataDir, users);

  for (let attempt = 1; ; attempt++) {
    // Free ports are found by binding and closing: another process may take one meanwhile.
    const [port, managementPort] = await freePorts(2);
    try {
      return await launch({ dataDir, app, java, port, managementPort, log, timeoutMs, users });
    } catch (err) {
      if (!(err?.portInUse && attempt < 3)) throw err;
      log(`port ${port} or ${managementPort} was taken meanwhile; retrying on other ports`);
    }
  }
}

async function writeProperties(dataDir, users) {
  // Quarkus reads config/application.properties under its working directory.
  const dir = path.join(dataDir, 'config');
  await mkdir(dir, { recursive: true });
  const lines = ['# Written by scripts/registry-lib.mjs'];
  const entries = Object.entries(users ?? {});
  if (entries.length) {
    lines.push('quarkus.http.auth.basic=true', 'quarkus.security.users.embedded.plain-text=true');
    for (const [name, password] of entries) {
      if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new Error(`startRegistry: user name ${JSON.stringify(name)} must be [A-Za-z0-9_.-]+`);
      lines.push(`quarkus.security.users.embedded.users.${name}=${escapeProperty(password)}`, `quarkus.security.users.embedded.roles.${name}=sr-admin`);
    }
  }
  const file = path.join(dir, 'application.properties');
  await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}

function escapeProperty(value) {
  return String(value).replace(/[\\\n\r=:#!]/g, (c) => ({ '\n': '\\n', '\r': '\\r' })[c] ?? `\\${c}`);
}

async function launch({ dataDir, app, java, port, managementPort, log, timeoutMs, users }) {
  const stdoutLog = path.join(dataDir, STDOUT_LOG);
  const started = Date.now();
  const out = openSync(stdoutLog, 'w');
  let child;
  try {
    child = spawn(
      java,
      [
        ...jvmFlags(app, java),
        `-Dquarkus.http.host=${HOST}`,
        `-Dquarkus.http.port=${port}`,
        // The management interface (health, metrics) defaults to 0.0.0.0:9000: one fixed port
        // would make two registries on one machine collide.
        `-Dquarkus.management.host=${HOST}`,
        `-Dquarkus.management.port=${managementPort}`,
        // H2 in memory by default; snapshots would go to /tmp.
        `-Dapicurio.storage.snapshot.location=${dataDir}`,
        '-jar',
        path.join(app, 'quarkus-run.jar'),
      ],
      { cwd: dataDir, detached: true, stdio: ['ignore', out, out] },
    );
  } finally {
    closeSync(out);
  }
  const pid = child.pid;
  let exited = null;
  let spawnError = null;
  child.on('error', (err) => (spawnError = err));
  child.on('exit', (code, signal) => (exited = { code, signal }));
  child.unref();
  if (!pid) {
    await sleep(50);
    throw new Error(`cannot start ${java}: ${spawnError?.message ?? 'no pid'}`);
  }
  const baseUrl = `http://${HOST}:${port}`;
  const url = `${baseUrl}${CCOMPAT_PATH}`;
  log(`started Apicurio Registry ${APICURIO_VERSION} (pid ${pid}) on ${baseUrl}, waiting for it to serve`);
  const state = { pid, url, baseUrl, port, managementPort, startedAt: new Date().toISOString(), ready: false, version: APICURIO_VERSION, dataDir, log: stdoutLog };
  const writeState = (value) => writeFile(path.join(dataDir, STATE_FILE), `${JSON.stringify(value, null, 2)}\n`);
  await writeState(state);

  const isAlive = () => exited === null && pidAlive(pid);
  const stop = async (stopTimeoutMs = DEFAULT_STOP_TIMEOUT_MS) => {
    await killGroup(pid, isAlive, stopTimeoutMs);
    await rm(path.join(dataDir, STATE_FILE), { force: true });
  };

  const deadline = Date.now() + (timeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  for (;;) {
    if (!isAlive()) {
      const how = exited ? (exited.signal ?? `exit code ${exited.code}`) : 'gone';
      const text = await readFile(stdoutLog, 'utf8').catch(() => '');
      const err = new Error(`Apicurio Registry exited during start-up (${how}); from its log:\n${logTail(text)}`);
      err.portInUse = /Address already in use|Port .* seems to be in use/i.test(text);
      await rm(path.join(dataDir, STATE_FILE), { force: true });
      throw err;
    }
    // The registry serves when its API answers as the registry: 200 with a JSON list of
    // subjects, or 401 when auth is on. Any other answer may come from another server that took
    // the port meanwhile (a 404 from flagd once passed for ready here).
    if (await servesSubjects(`${url}/subjects`, Boolean(users && Object.keys(users).length))) break;
    if (Date.now() > deadline) {
      await stop(5_000);
      const text = await readFile(stdoutLog, 'utf8').catch(() => '');
      throw new Error(`Apicurio Registry did not serve within ${Math.round((timeoutMs ?? DEFAULT_START_TIMEOUT_MS) / 1000)} s; from its log:\n${logTail(text)}`);
    }
    await sleep(100);
  }
  const startMs = Date.now() - started;
  log(`Apicurio Registry is up at ${url} after ${(startMs / 1000).toFixed(1)} s`);
  await writeState({ ...state, ready: true });
  return { url, baseUrl, port, managementPort, pid, dataDir, startMs, stop: () => stop() };
}

/** Whether a GET of the subjects list answers as the registry does: a JSON array, or 401 with auth on. */
export function servesSubjects(url, auth, timeoutMs = 2_000) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      if (res.statusCode === 401) {
        res.resume();
        resolve(auth);
        return;
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('error', () => resolve(false));
      res.on('end', () => {
        try {
          resolve(res.statusCode === 200 && Array.isArray(JSON.parse(body)));
        } catch {
          resolve(false);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function logTail(text, lines = 20) {
  const all = text.trimEnd().split('\n');
  const errors = [...new Set(all.filter((l) => / (ERROR|FATAL) |^Caused by: |Exception: /.test(l)))].slice(0, 8);
  return [...(errors.length ? ['errors:', ...errors] : []), `last ${lines} lines:`, ...all.slice(-lines)].join('\n');
}

// ---------------------------------------------------------------------------------------------
// State file, for stopping from another process

/** The contents of `<dataDir>/registry.json`, or null. */
export async function readRegistryState(dataDir) {
  try {
    return JSON.parse(await readFile(path.join(path.resolve(dataDir), STATE_FILE), 'utf8'));
  } catch {
    return null;
  }
}

/** The state of a live, started registry of this dataDir that answers, else null. */
export async function runningRegistry(dataDir) {
  const state = await readRegistryState(dataDir);
  if (!state?.ready || !isOurRegistry(state.pid, path.resolve(dataDir))) return null;
  // 401: started with users (auth on).
  return (await servesSubjects(`${state.url}/subjects`, true)) ? state : null;
}

/**
 * Stops the registry recorded in `<dataDir>/registry.json`; true if one was running. The pid is
 * only signalled while it is still a registry started with this dataDir (pids get reused).
 */
export async function stopRegistryFromStateFile(dataDir, { timeoutMs = DEFAULT_STOP_TIMEOUT_MS } = {}) {
  dataDir = path.resolve(dataDir);
  const state = await readRegistryState(dataDir);
  let stopped = false;
  if (state && isOurRegistry(state.pid, dataDir)) {
    await killGroup(state.pid, () => pidAlive(state.pid), timeoutMs);
    stopped = true;
  }
  await rm(path.join(dataDir, STATE_FILE), { force: true });
  return stopped;
}

function isOurRegistry(pid, dataDir) {
  if (!Number.isInteger(pid) || pid <= 1 || !pidAlive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.some((a) => a.endsWith('quarkus-run.jar')) && cmdline.includes(`-Dapicurio.storage.snapshot.location=${dataDir}`);
  } catch {
    return false; // no /proc: refuse to signal a pid we cannot identify
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

function run(command, args, { cwd, what }) {
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => reject(new Error(`cannot run ${command} (${err.message}); ${what}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const tail = output.trim().split('\n').slice(-20).join('\n');
      reject(new Error(`${command} ${args.slice(0, 3).join(' ')} failed (${signal ?? `exit ${code}`})${tail ? `:\n${tail}` : ''}`));
    });
  });
}

