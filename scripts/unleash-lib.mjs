// A real Unleash feature-flag server (npm `unleash-server`, the 7.5.x line that runs on Node 20)
// on a private PostgreSQL cluster (Debian's binaries), for tests and local runs. No Docker.
// Plain JS ESM on Node builtins only, so it runs before any build.
//
//   ensureUnleashServer({ log })               -> directory holding node_modules/unleash-server (installed once, cached)
//   startPostgres({ dataDir, log })            -> { port, databaseUrl(db, user), pid, stop() }
//   startUnleash({ dataDir, log })             -> { url, adminToken, clientToken, clientTokens, pid, postgres, stop() }
//   stopUnleashFromStateFile(dataDir)          -> stops what <dataDir>/unleash.json records
//
// Tokens are generated per start, handed back to the caller and never written to disk by this
// file: the state file holds pids and ports only. Types: scripts/unleash-lib.d.mts.

/* global fetch */ // Node 20 has it; the lint config lists only the globals src/ uses.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { cacheRoot, freePorts } from './kafka-lib.mjs';
import { exists, fileSize, killGroup, pidAlive, readSince, sleep } from './process-lib.mjs';

/** Node 20 needs the 7.5.x line: 7.6 and 8.x declare engines node >= 22. */
export const UNLEASH_VERSION = '7.5.1';

const HOST = '127.0.0.1';
const STATE_FILE = 'unleash.json';
const PG_DIR = 'pgdata';
const PG_LOG = 'postgres.log';
const UNLEASH_LOG = 'unleash.log';
const DB_NAME = 'unleash';
const DB_USER = 'unleash';
/** The environments of Unleash's default project, each served by its own client token. */
const ENVIRONMENTS = ['development', 'production'];
const DEFAULT_START_TIMEOUT_MS = 120_000;
const DEFAULT_STOP_TIMEOUT_MS = 15_000;

const noop = () => {};

// ---------------------------------------------------------------------------------------------
// unleash-server, installed outside the project's dependencies

/**
 * Installs unleash-server@UNLEASH_VERSION into `<cache>/unleash-server-<version>` the first time
 * (npm install --prefix into a staging dir, then a rename), and returns that directory. A marker
 * written after a complete install decides whether it is there.
 */
export async function ensureUnleashServer({ log = noop } = {}) {
  const base = path.join(cacheRoot(), `unleash-server-${UNLEASH_VERSION}`);
  const marker = path.join(base, 'install.complete');
  if (await exists(marker)) return base;

  await mkdir(path.dirname(base), { recursive: true });
  const staging = `${base}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(staging, { recursive: true });
  log(`installing unleash-server ${UNLEASH_VERSION} from npm into ${base} (first run only)`);
  const started = Date.now();
  try {
    await writeFile(path.join(staging, 'package.json'), `${JSON.stringify({ name: 'migrate-unleash-server', private: true }, null, 2)}\n`);
    // --ignore-scripts: the server needs none of its dependencies' install scripts (native
    // builds of optional ssh helpers), and skipping them keeps the install fast and offline-safe.
    await run(npmCommand(), ['install', '--prefix', staging, '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', `unleash-server@${UNLEASH_VERSION}`], {
      what: `npm install unleash-server@${UNLEASH_VERSION}`,
    });
    if (!(await exists(path.join(staging, 'node_modules', 'unleash-server', 'dist', 'server.js')))) {
      throw new Error(`npm finished but ${staging} holds no unleash-server/dist/server.js`);
    }
    await writeFile(path.join(staging, 'install.complete'), `${UNLEASH_VERSION}\n`);
    if (await exists(marker)) return base; // someone else finished first
    await rm(base, { recursive: true, force: true });
    await rename(staging, base);
    log(`installed unleash-server in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return base;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

function npmCommand() {
  return process.env.NPM || 'npm';
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL: a private cluster in the data dir

/** The directory of initdb/postgres: MIGRATE_PG_BIN, else pg_config --bindir, else the newest /usr/lib/postgresql/N/bin. */
export function postgresBinDir() {
  if (process.env.MIGRATE_PG_BIN) return process.env.MIGRATE_PG_BIN;
  const versions = readdirSyncSafe('/usr/lib/postgresql')
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const dir = `/usr/lib/postgresql/${v}/bin`;
    if (existsSync(path.join(dir, 'initdb'))) return dir;
  }
  const out = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  if (out.status === 0 && out.stdout.trim() && existsSync(path.join(out.stdout.trim(), 'initdb'))) return out.stdout.trim();
  throw new Error('PostgreSQL server binaries not found (initdb, postgres): install Debian package postgresql, or set MIGRATE_PG_BIN');
}

/**
 * PostgreSQL refuses to run as root: as root, the cluster belongs to user `postgres` and its
 * commands run through runuser; as anyone else, it runs as that user.
 */
function pgUser() {
  if (process.getuid?.() !== 0) return null;
  const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (id.status !== 0) throw new Error('running as root, and there is no user "postgres" to run PostgreSQL as (install Debian package postgresql)');
  return { name: 'postgres', uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function asPgUser(user, command, args) {
  return user ? ['runuser', ['-u', user.name, '--', command, ...args]] : [command, args];
}

/**
 * Starts a private PostgreSQL cluster in `<dataDir>/pgdata` on a free port of 127.0.0.1 (trust
 * auth, unix socket inside the cluster dir, no fsync: a test database) and makes role and
 * database `unleash`. An existing cluster is started as it is, on a new port.
 */
export async function startPostgres({ dataDir, log = noop, port, timeoutMs = 60_000 } = {}) {
  if (!dataDir) throw new Error('startPostgres: dataDir is required');
  dataDir = path.resolve(dataDir);
  const bin = postgresBinDir();
  const user = pgUser();
  const pgdata = path.join(dataDir, PG_DIR);
  await mkdir(dataDir, { recursive: true });
  if (user) await chmod(dataDir, 0o755); // postgres must reach its cluster dir inside ours

  const fresh = !(await exists(path.join(pgdata, 'PG_VERSION')));
  if (fresh) {
    await rm(pgdata, { recursive: true, force: true });
    await mkdir(pgdata, { mode: 0o700 });
    if (user) await chown(pgdata, user.uid, user.gid);
    const [cmd, args] = asPgUser(user, path.join(bin, 'initdb'), [
      '-D', pgdata, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions',
    ]);
    await run(cmd, args, { what: 'initdb' });
  }
  const logFile = path.join(dataDir, PG_LOG);
  const logFd = openSync(logFile, 'a');
  if (user) await chown(logFile, user.uid, user.gid);

  for (let attempt = 1; ; attempt++) {
    const pgPort = port ?? (await freePorts(1))[0];
    const offset = await fileSize(logFile);
    const [cmd, args] = asPgUser(user, path.join(bin, 'postgres'), [
      '-D', pgdata,
      '-p', String(pgPort),
      '-k', pgdata,
      '-c', `listen_addresses=${HOST}`,
      // A throwaway test cluster: durability costs time and buys nothing here.
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
      '-c', 'shared_buffers=32MB',
      '-c', 'max_connections=40',
      '-c', 'logging_collector=off',
    ]);
    const child = spawn(cmd, args, { cwd: dataDir, detached: true, stdio: ['ignore', logFd, logFd] });
    const proc = watch(child);
    await writeState(dataDir, { postgres: { pid: proc.pid, port: pgPort, ready: false } });
    const started = Date.now();
    const deadline = started + timeoutMs;
    let ready = false;
    while (!ready) {
      if (!proc.alive()) {
        const text = await readSince(logFile, offset);
        if (/could not bind|Address already in use/.test(text) && port === undefined && attempt < 3) break;
        closeSync(logFd);
        throw new Error(`PostgreSQL exited during start-up (${proc.how()}); from ${logFile}:\n${tail(text)}`);
      }
      if (Date.now() > deadline) {
        await killGroup(proc.pid, proc.alive, 5_000, 'SIGINT');
        closeSync(logFd);
        throw new Error(`PostgreSQL did not accept connections within ${Math.round(timeoutMs / 1000)} s; from ${logFile}:\n${tail(await readSince(logFile, offset))}`);
      }
      ready = spawnSync(path.join(bin, 'pg_isready'), ['-q', '-h', HOST, '-p', String(pgPort), '-U', 'postgres', '-t', '1']).status === 0;
      if (!ready) await sleep(100);
    }
    if (!ready) {
      log(`port ${pgPort} was taken meanwhile; retrying on another port`);
      continue;
    }
    closeSync(logFd);
    log(`PostgreSQL is up on ${HOST}:${pgPort} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (fresh) await createRoleAndDatabase(bin, pgPort);
    return {
      port: pgPort,
      pid: proc.pid,
      pgdata,
      /** postgres://unleash@127.0.0.1:<port>/unleash (trust auth: no password). */
      databaseUrl: `postgres://${DB_USER}@${HOST}:${pgPort}/${DB_NAME}`,
      // SIGINT is PostgreSQL's fast shutdown: it disconnects clients instead of waiting for them.
      stop: () => killGroup(proc.pid, proc.alive, DEFAULT_STOP_TIMEOUT_MS, 'SIGINT'),
    };
  }
}

async function createRoleAndDatabase(bin, port) {
  const psql = (sql) =>
    run(path.join(bin, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', HOST, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-c', sql], { what: 'psql' });
  await psql(`CREATE ROLE ${DB_USER} LOGIN`);
  await psql(`CREATE DATABASE ${DB_NAME} OWNER ${DB_USER}`);
}

// ---------------------------------------------------------------------------------------------
// Unleash

/**
 * Starts PostgreSQL and Unleash with everything under `dataDir`, and resolves once the admin API
 * answers the generated admin token. Returns the tokens (admin `*:*.<hex>`; one backend token per
 * environment, `*:<env>.<hex>`) to the caller only.
 */
export async function startUnleash({ dataDir, log = noop, timeoutMs = DEFAULT_START_TIMEOUT_MS } = {}) {
  if (!dataDir) throw new Error('startUnleash: dataDir is required');
  dataDir = path.resolve(dataDir);
  const started = Date.now();
  // Install (first run only) and start PostgreSQL side by side; if either fails, stop the other.
  const [installed, pg] = await Promise.allSettled([ensureUnleashServer({ log }), startPostgres({ dataDir, log })]);
  if (installed.status === 'rejected' || pg.status === 'rejected') {
    if (pg.status === 'fulfilled') await pg.value.stop();
    await rm(path.join(dataDir, STATE_FILE), { force: true });
    throw installed.status === 'rejected' ? installed.reason : pg.reason;
  }
  const prefix = installed.value;
  const postgres = pg.value;
  const server = path.join(prefix, 'node_modules', 'unleash-server', 'dist', 'server.js');
  const adminToken = `*:*.${randomBytes(24).toString('hex')}`;
  const clientTokens = Object.fromEntries(ENVIRONMENTS.map((env) => [env, `*:${env}.${randomBytes(24).toString('hex')}`]));
  const logFile = path.join(dataDir, UNLEASH_LOG);

  try {
    for (let attempt = 1; ; attempt++) {
      const [port] = await freePorts(1);
      const url = `http://${HOST}:${port}`;
      const offset = await fileSize(logFile);
      const out = openSync(logFile, 'a');
      let child;
      try {
        child = spawn(process.execPath, [server], {
          cwd: dataDir,
          detached: true,
          stdio: ['ignore', out, out],
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            TZ: 'UTC',
            NODE_ENV: 'production',
            DATABASE_URL: postgres.databaseUrl,
            DATABASE_SSL: 'false',
            HTTP_HOST: HOST,
            HTTP_PORT: String(port),
            UNLEASH_URL: url,
            CHECK_VERSION: 'false',
            SEND_TELEMETRY: 'false',
            LOG_LEVEL: 'warn',
            INIT_ADMIN_API_TOKENS: adminToken,
            INIT_BACKEND_API_TOKENS: Object.values(clientTokens).join(','),
            // The UI's admin user: a random password nobody is told, not the well-known default.
            UNLEASH_DEFAULT_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
            // Shut down at once on SIGTERM (the default waits for open connections).
            GRACEFUL_SHUTDOWN_ENABLE: 'false',
          },
        });
      } finally {
        closeSync(out);
      }
      const proc = watch(child);
      await writeState(dataDir, {
        postgres: { pid: postgres.pid, port: postgres.port, ready: true },
        unleash: { pid: proc.pid, port, url, version: UNLEASH_VERSION, ready: false },
      });
      log(`started unleash-server ${UNLEASH_VERSION} (pid ${proc.pid}) on ${url}, waiting for it to serve`);
      const deadline = Date.now() + timeoutMs;
      let up = false;
      while (!up) {
        if (!proc.alive()) {
          const text = await readSince(logFile, offset);
          if (/EADDRINUSE/.test(text) && attempt < 3) break;
          throw new Error(`Unleash exited during start-up (${proc.how()}); from ${logFile}:\n${tail(text)}`);
        }
        if (Date.now() > deadline) {
          await killGroup(proc.pid, proc.alive, 5_000);
          throw new Error(`Unleash did not serve within ${Math.round(timeoutMs / 1000)} s; from ${logFile}:\n${tail(await readSince(logFile, offset))}`);
        }
        up = await adminApiAnswers(url, adminToken);
        if (!up) await sleep(200);
      }
      if (!up) {
        log(`port ${port} was taken meanwhile; retrying on another port`);
        continue;
      }
      await writeState(dataDir, {
        postgres: { pid: postgres.pid, port: postgres.port, ready: true },
        unleash: { pid: proc.pid, port, url, version: UNLEASH_VERSION, ready: true },
      });
      log(`Unleash is up on ${url} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return {
        url,
        port,
        pid: proc.pid,
        adminToken,
        clientToken: clientTokens.development,
        clientTokens,
        postgres,
        dataDir,
        async stop() {
          await killGroup(proc.pid, proc.alive, DEFAULT_STOP_TIMEOUT_MS);
          await postgres.stop();
          await rm(path.join(dataDir, STATE_FILE), { force: true });
        },
      };
    }
  } catch (err) {
    await postgres.stop();
    await rm(path.join(dataDir, STATE_FILE), { force: true });
    throw err;
  }
}

/** /health is up and the admin API takes the admin token (tokens are loaded before it listens). */
async function adminApiAnswers(url, adminToken) {
  try {
    const health = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
    if (!health.ok) return false;
    const res = await fetch(`${url}/api/admin/projects`, { headers: { Authorization: adminToken }, signal: AbortSignal.timeout(2_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// State file, for stopping from another process

/** `<dataDir>/unleash.json`: pids and ports (never tokens), or null. */
export async function readUnleashState(dataDir) {
  try {
    return JSON.parse(await readFile(path.join(path.resolve(dataDir), STATE_FILE), 'utf8'));
  } catch {
    return null;
  }
}

/** The state of a live, ready Unleash of this dataDir whose /health answers; else null. */
export async function runningUnleash(dataDir) {
  const state = await readUnleashState(dataDir);
  if (!state?.unleash?.ready || !isOurs(state.unleash.pid, path.resolve(dataDir))) return null;
  try {
    const res = await fetch(`${state.unleash.url}/health`, { signal: AbortSignal.timeout(2_000) });
    return res.ok ? state : null;
  } catch {
    return null;
  }
}

/**
 * Stops Unleash and PostgreSQL as `<dataDir>/unleash.json` records them. A pid is only signalled
 * while it still runs from this dataDir (pids get reused). True if anything was running.
 */
export async function stopUnleashFromStateFile(dataDir, { timeoutMs = DEFAULT_STOP_TIMEOUT_MS } = {}) {
  dataDir = path.resolve(dataDir);
  const state = await readUnleashState(dataDir);
  let stopped = false;
  for (const [name, signal] of [['unleash', 'SIGTERM'], ['postgres', 'SIGINT']]) {
    const pid = state?.[name]?.pid;
    if (isOurs(pid, dataDir)) {
      await killGroup(pid, () => pidAlive(pid), timeoutMs, signal);
      stopped = true;
    }
  }
  await rm(path.join(dataDir, STATE_FILE), { force: true });
  return stopped;
}

/** A live process started from this dataDir: Unleash runs with it as cwd, PostgreSQL (or runuser) names its cluster dir. */
function isOurs(pid, dataDir) {
  if (!Number.isInteger(pid) || pid <= 1 || !pidAlive(pid)) return false;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (cmdline.includes(path.join(dataDir, PG_DIR))) return true;
    return cmdline.some((arg) => arg.endsWith(path.join('unleash-server', 'dist', 'server.js'))) && readlinkSafe(`/proc/${pid}/cwd`) === dataDir;
  } catch {
    return false; // no /proc: refuse to signal a pid we cannot identify
  }
}

async function writeState(dataDir, state) {
  await writeFile(path.join(dataDir, STATE_FILE), `${JSON.stringify({ ...state, dataDir, writtenAt: new Date().toISOString() }, null, 2)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Processes

/** Tracks a detached child: its pid, whether it still runs, and how it ended. */
function watch(child) {
  let exited = null;
  let spawnError = null;
  child.on('error', (err) => (spawnError = err));
  child.on('exit', (code, signal) => (exited = { code, signal }));
  child.unref();
  const pid = child.pid;
  return {
    pid,
    alive: () => pid !== undefined && exited === null && spawnError === null && pidAlive(pid),
    how: () => (spawnError ? spawnError.message : exited ? (exited.signal ?? `exit code ${exited.code}`) : 'gone'),
  };
}

function run(command, args, { what }) {
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => reject(new Error(`cannot run ${command} (${err.message})`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(output);
      const text = output.trim();
      reject(new Error(`${what} failed (${signal ?? `exit ${code}`})${text ? `:\n${tail(text)}` : ''}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function tail(text, lines = 25) {
  const t = text.trimEnd();
  return t ? t.split('\n').slice(-lines).join('\n') : '(nothing logged)';
}

function readdirSyncSafe(dir) {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function readlinkSafe(link) {
  try {
    return readlinkSync(link);
  } catch {
    return undefined;
  }
}

