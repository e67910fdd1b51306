// A real single-node Apache Kafka broker (KRaft, broker+controller in one JVM), run from the
// Maven Central jars listed in scripts/kafka/pom.xml. No Docker, no Kafka distribution tarball:
// Java 17 and Maven are enough. Plain JS ESM on Node builtins only, so it runs before any build.
//
//   ensureKafkaJars({ log })         -> directory of the broker's jars (resolved once, cached)
//   startKafka({ dataDir, log })     -> handle { brokers, port, controllerPort, pid, stop(), restart() }
//   startKafka({ dataDir, security: { users } })
//                                    -> the same, plus TLS and SASL/SCRAM listeners (handle.security)
//   stopKafkaFromStateFile(dataDir)  -> stops the broker recorded in <dataDir>/broker.json
//
// Types: scripts/kafka-lib.d.mts.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exists, fileSize, killGroup, pidAlive, readSince, sleep } from './process-lib.mjs';

/** Keep in step with kafka.version in scripts/kafka/pom.xml. */
export const KAFKA_VERSION = '4.1.2';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const POM = path.join(HERE, 'kafka', 'pom.xml');
const HOST = '127.0.0.1';
const STATE_FILE = 'broker.json';
const LOG_DIRS = 'kraft-logs';
const SERVER_LOG = 'server.log';
const STDOUT_LOG = 'kafka.out';
const READY_LINE = 'Kafka Server started';
const DEFAULT_START_TIMEOUT_MS = 90_000;
const DEFAULT_STOP_TIMEOUT_MS = 20_000;
const TLS_DIR = 'tls';
const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

// Start-up over peak throughput: a test broker lives for minutes and moves little data.
// Measured here (2 cores, Java 17): broker ready in ~1.6 s with these, ~2.0-2.4 s without.
// MIGRATE_KAFKA_JVM_OPTS (space-separated) replaces them for the broker, e.g. for a benchmark
// that wants the C2 compiler: MIGRATE_KAFKA_JVM_OPTS='-XX:+UseParallelGC'.
const FAST_START_FLAGS = ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true'];
const BROKER_JVM_FLAGS = [
  '-Xms256m',
  '-Xmx512m',
  ...(process.env.MIGRATE_KAFKA_JVM_OPTS === undefined
    ? FAST_START_FLAGS
    : process.env.MIGRATE_KAFKA_JVM_OPTS.split(/\s+/).filter(Boolean)),
];
const TOOL_JVM_FLAGS = ['-Xmx256m', ...FAST_START_FLAGS];

const noop = () => {};

// ---------------------------------------------------------------------------------------------
// Jars

/** `${MIGRATE_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/migrate}` */
export function cacheRoot() {
  if (process.env.MIGRATE_CACHE_DIR) return path.resolve(process.env.MIGRATE_CACHE_DIR);
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(path.resolve(xdg), 'migrate');
}

/**
 * Copies the broker's runtime jars into `<cache>/kafka-<version>/libs` the first time, and
 * returns that directory. A marker written after a complete copy (holding a hash of the POM)
 * decides whether the copy is there: a half-done or out-of-date copy is done again.
 */
export async function ensureKafkaJars({ log = noop } = {}) {
  const base = path.join(cacheRoot(), `kafka-${KAFKA_VERSION}`);
  const libs = path.join(base, 'libs');
  const marker = path.join(base, 'libs.complete');
  const pomHash = createHash('sha256').update(await readFile(POM)).digest('hex');

  if (await markerMatches(marker, pomHash, libs)) return libs;

  await mkdir(base, { recursive: true });
  // Resolve into a private staging directory, then move it into place, so that two processes
  // resolving at once (a test run and `kafka.mjs start`) never see each other's half-done copy.
  const staging = path.join(base, `libs.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  log(`resolving Kafka ${KAFKA_VERSION} jars from Maven Central into ${libs} (first run only)`);
  const started = Date.now();
  try {
    await runMaven([
      '-q',
      '-B',
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${staging}`,
      '-f',
      POM,
    ]);
    const jars = (await readdir(staging)).filter((f) => f.endsWith('.jar'));
    if (!jars.some((f) => f.startsWith(`kafka_2.13-${KAFKA_VERSION}`))) {
      throw new Error(`Maven finished but ${staging} holds no kafka_2.13-${KAFKA_VERSION} jar`);
    }
    if (await markerMatches(marker, pomHash, libs)) return libs; // someone else finished first
    await rm(marker, { force: true });
    await rm(libs, { recursive: true, force: true });
    await rename(staging, libs);
    await writeFile(marker, `${pomHash}\n`);
    log(`resolved ${jars.length} jars in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return libs;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function markerMatches(marker, pomHash, libs) {
  try {
    const [recorded, info] = await Promise.all([readFile(marker, 'utf8'), stat(libs)]);
    return recorded.trim() === pomHash && info.isDirectory();
  } catch {
    return false;
  }
}

function runMaven(args) {
  const mvn = process.env.MVN || 'mvn';
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn(mvn, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) =>
      reject(new Error(`cannot run ${mvn} (${err.message}); Maven 3.8+ is needed to fetch Kafka`)),
    );
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const tail = output.trim().split('\n').slice(-20).join('\n');
      const what = `${mvn} ${args.slice(0, 3).join(' ')} failed (${signal ?? `exit ${code}`})`;
      reject(new Error(tail ? `${what}:\n${tail}` : `${what} and printed nothing`));
    });
  });
}

function javaCommand() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function runJava(classpath, mainClass, args, cwd) {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(javaCommand(), [...TOOL_JVM_FLAGS, '-cp', classpath, mainClass, ...args], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (err) => reject(new Error(`cannot run java (${err.message}); Java 17+ is needed`)));
    child.on('close', (code) => {
      if (code === 0) return resolve(stdout);
      const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-20).join('\n');
      const what = `${mainClass} ${args[0] ?? ''} failed (exit ${code})`;
      reject(new Error(tail ? `${what}:\n${tail}` : `${what} and printed nothing`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Broker

/**
 * Starts a broker whose files all live under `dataDir`, and resolves once it serves clients.
 * A fresh dataDir is formatted; an already formatted one is started as it is (on the ports it
 * had, unless others are given), which is how restart() keeps topics and offsets.
 */
export async function startKafka({ dataDir, log = noop, port, controllerPort, timeoutMs, security } = {}) {
  if (!dataDir) throw new Error('startKafka: dataDir is required');
  dataDir = path.resolve(dataDir);
  await mkdir(dataDir, { recursive: true });
  const libs = await ensureKafkaJars({ log });
  const classpath = `${libs}${path.sep}*`;

  const formatted = await exists(path.join(dataDir, LOG_DIRS, 'meta.properties'));
  let securePorts = null;
  if (formatted && (!port || !controllerPort)) {
    const previous = await readPorts(dataDir);
    port ??= previous?.port;
    controllerPort ??= previous?.controllerPort;
  }
  if (formatted && security) securePorts = (await readKafkaState(dataDir))?.securePorts ?? null;
  const pickPorts = !port || !controllerPort;
  // A throwaway CA and broker keystore per start; a restart() of the handle keeps them.
  const tls = security ? await makeTls(path.join(dataDir, TLS_DIR)) : null;

  for (let attempt = 1; ; attempt++) {
    let ports = { port, controllerPort };
    if (pickPorts) {
      const [a, b] = await freePorts(2);
      ports = { port: port ?? (controllerPort === a ? b : a), controllerPort: controllerPort ?? b };
      if (ports.port === ports.controllerPort) ports.controllerPort = a;
    }
    if (security && (!securePorts || attempt > 1)) {
      const taken = new Set([ports.port, ports.controllerPort]);
      const free = (await freePorts(5)).filter((p) => !taken.has(p));
      securePorts = { ssl: free[0], saslSsl: free[1], saslPlaintext: free[2] };
    }
    const secure = security ? { ...tls, ports: securePorts, users: security.users ?? [] } : null;
    try {
      return await startOn({ dataDir, classpath, ...ports, format: !formatted, log, timeoutMs, secure });
    } catch (err) {
      // Free ports are found by binding and closing: another process may take one before the
      // broker binds it. A fresh dir can be formatted again for other ports; try those.
      if (!(err?.portInUse && pickPorts && !formatted && attempt < 3)) throw err;
      log(`port ${ports.port} or ${ports.controllerPort} was taken meanwhile; retrying on other ports`);
      await rm(path.join(dataDir, LOG_DIRS), { recursive: true, force: true });
    }
  }
}

async function startOn({ dataDir, classpath, port, controllerPort, format, log, timeoutMs, secure }) {
  const serverProperties = path.join(dataDir, 'server.properties');
  const log4jConfig = path.join(dataDir, 'log4j2.properties');
  await writeFile(serverProperties, serverPropertiesText({ dataDir, port, controllerPort, secure }));
  await writeFile(log4jConfig, log4jText(path.join(dataDir, SERVER_LOG)));

  if (format) {
    const clusterId = (await runJava(classpath, 'kafka.tools.StorageTool', ['random-uuid'], dataDir)).trim();
    // SCRAM credentials go into the cluster metadata at format time (KRaft has no ZooKeeper to
    // hold them): one --add-scram per user and mechanism. The arguments hold the passwords, so
    // a failure quotes only the tool's output (runJava never echoes its arguments).
    const scram = (secure?.users ?? []).flatMap((u) =>
      SCRAM_MECHANISMS.flatMap((m) => ['--add-scram', `${m}=[name=${u.name},password=${u.password}]`]),
    );
    await runJava(
      classpath,
      'kafka.tools.StorageTool',
      ['format', '-t', clusterId, '-c', serverProperties, '--standalone', ...scram],
      dataDir,
    );
    log(`formatted ${path.join(dataDir, LOG_DIRS)} (cluster ${clusterId})`);
  }

  const securePorts = secure?.ports;
  const launchOptions = { dataDir, classpath, log4jConfig, serverProperties, port, controllerPort, log, timeoutMs, securePorts };
  let current = await launch(launchOptions);
  const handle = {
    brokers: `${HOST}:${port}`,
    port,
    controllerPort,
    pid: current.pid,
    dataDir,
    ...(secure
      ? {
          security: {
            ssl: `${HOST}:${securePorts.ssl}`,
            saslSsl: `${HOST}:${securePorts.saslSsl}`,
            saslPlaintext: `${HOST}:${securePorts.saslPlaintext}`,
            caFile: secure.caFile,
            mechanisms: [...SCRAM_MECHANISMS],
          },
        }
      : {}),
    async stop() {
      await current.stop();
      await rm(path.join(dataDir, STATE_FILE), { force: true });
    },
    async restart() {
      log(`restarting Kafka on ${handle.brokers}`);
      await current.stop();
      current = await launch(launchOptions);
      handle.pid = current.pid;
    },
  };
  return handle;
}

async function launch({ dataDir, classpath, log4jConfig, serverProperties, port, controllerPort, log, timeoutMs, securePorts }) {
  const serverLog = path.join(dataDir, SERVER_LOG);
  const stdoutLog = path.join(dataDir, STDOUT_LOG);
  // A restart appends to both logs: look only at what this launch writes.
  const offsets = { server: await fileSize(serverLog), stdout: await fileSize(stdoutLog) };
  const started = Date.now();

  const out = openSync(stdoutLog, 'a');
  let child;
  try {
    child = spawn(
      javaCommand(),
      [
        ...BROKER_JVM_FLAGS,
        `-Dlog4j2.configurationFile=${log4jConfig}`,
        `-Dkafka.logs.dir=${dataDir}`,
        '-cp',
        classpath,
        'kafka.Kafka',
        serverProperties,
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
    throw new Error(`cannot start java: ${spawnError?.message ?? 'no pid'}; Java 17+ is needed`);
  }
  log(`started Kafka ${KAFKA_VERSION} (pid ${pid}) on ${HOST}:${port}, waiting for it to serve`);
  // Recorded at once, so that a broker whose starter died meanwhile can still be found and stopped.
  const state = {
    pid,
    brokers: `${HOST}:${port}`,
    port,
    controllerPort,
    startedAt: new Date().toISOString(),
    ready: false,
    version: KAFKA_VERSION,
    dataDir,
    log: serverLog,
    ...(securePorts ? { securePorts } : {}),
  };
  const writeState = (value) =>
    writeFile(path.join(dataDir, STATE_FILE), `${JSON.stringify(value, null, 2)}\n`);
  await writeState(state);

  const isAlive = () => exited === null && pidAlive(pid);
  const stop = async (stopTimeoutMs = DEFAULT_STOP_TIMEOUT_MS) => {
    await killGroup(pid, isAlive, stopTimeoutMs);
  };

  const deadline = Date.now() + (timeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  for (;;) {
    if (!isAlive()) {
      const how = exited ? (exited.signal ?? `exit code ${exited.code}`) : 'gone';
      const err = new Error(`Kafka exited during start-up (${how}); from its log:\n${await logTail(dataDir, offsets)}`);
      err.portInUse = (await readSince(serverLog, offsets.server)).includes('Address already in use');
      await rm(path.join(dataDir, STATE_FILE), { force: true });
      throw err;
    }
    if (
      (await readSince(serverLog, offsets.server)).includes(READY_LINE) &&
      (await canConnect(HOST, port)) &&
      (!securePorts || (await canConnectAll(Object.values(securePorts))))
    ) {
      break;
    }
    if (Date.now() > deadline) {
      await stop(5_000);
      await rm(path.join(dataDir, STATE_FILE), { force: true });
      const secs = Math.round((timeoutMs ?? DEFAULT_START_TIMEOUT_MS) / 1000);
      throw new Error(`Kafka did not start within ${secs} s; from its log:\n${await logTail(dataDir, offsets)}`);
    }
    await sleep(200);
  }
  log(`Kafka is up on ${HOST}:${port} after ${((Date.now() - started) / 1000).toFixed(1)} s`);

  await writeState({ ...state, ready: true });
  return { pid, stop };
}

function serverPropertiesText({ dataDir, port, controllerPort, secure }) {
  // With `secure`, three more listeners beside PLAINTEXT (kept for admin set-up and the
  // controller): SSL, SASL_SSL and SASL_PLAINTEXT, the SASL ones with SCRAM-SHA-256 and -512.
  const extra = secure
    ? [
        ['SSL', secure.ports.ssl],
        ['SASL_SSL', secure.ports.saslSsl],
        ['SASL_PLAINTEXT', secure.ports.saslPlaintext],
      ]
    : [];
  const listeners = [`PLAINTEXT://${HOST}:${port}`, `CONTROLLER://${HOST}:${controllerPort}`, ...extra.map(([n, p]) => `${n}://${HOST}:${p}`)];
  const protocols = ['CONTROLLER:PLAINTEXT', 'PLAINTEXT:PLAINTEXT', ...extra.map(([n]) => `${n}:${n}`)];
  const securityLines = secure
    ? [
        'ssl.keystore.type=PKCS12',
        `ssl.keystore.location=${secure.keystore}`,
        `ssl.keystore.password=${secure.storePassword}`,
        `ssl.key.password=${secure.storePassword}`,
        'ssl.client.auth=none',
        `sasl.enabled.mechanisms=${SCRAM_MECHANISMS.join(',')}`,
        ...['sasl_ssl', 'sasl_plaintext'].flatMap((listener) =>
          SCRAM_MECHANISMS.map(
            (m) =>
              `listener.name.${listener}.${m.toLowerCase()}.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;`,
          ),
        ),
      ]
    : [];
  const lines = [
    '# Written by scripts/kafka-lib.mjs: a single-node KRaft broker for local runs and tests.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=${HOST}:${controllerPort}`,
    `listeners=${listeners.join(',')}`,
    `advertised.listeners=${listeners.join(',')}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=${protocols.join(',')}`,
    ...securityLines,
    `log.dirs=${path.join(dataDir, LOG_DIRS)}`,
    // Topics are created on purpose, so tests see real creation (and real "unknown topic").
    'auto.create.topics.enable=false',
    'num.partitions=1',
    'default.replication.factor=1',
    // One node: every internal topic must accept replication factor 1, or the group and
    // transaction coordinators never become available.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // group.coordinator.rebalance.protocols keeps its default (classic,consumer,streams in 4.1):
    // applications run both consumer group protocols, and so do the tests (kafkajs is classic only;
    // migrate describes consumer-protocol groups itself, src/adapters/kafka-groups.ts).
    // A small machine: fewer threads than the defaults.
    'num.network.threads=2',
    'num.io.threads=4',
    'num.recovery.threads.per.data.dir=1',
    'log.cleaner.threads=1',
    'log.cleaner.dedupe.buffer.size=8388608',
  ];
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// TLS material

/**
 * A throwaway CA and a broker certificate it signs (for IP 127.0.0.1 and localhost), in `dir`,
 * made with openssl: ca.pem (what clients trust), broker.p12 (the broker's PKCS12 keystore).
 * Returns { caFile, keystore, storePassword }.
 */
async function makeTls(dir) {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const storePassword = randomBytes(12).toString('hex');
  const f = (name) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await writeFile(f('broker.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  await runOpenssl(['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '7', '-subj', `/CN=migrate test CA ${randomBytes(4).toString('hex')}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  await runOpenssl(['req', ...ec, '-keyout', f('broker.key'), '-out', f('broker.csr'), '-subj', '/CN=127.0.0.1']);
  await runOpenssl(['x509', '-req', '-in', f('broker.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-out', f('broker.pem'), '-days', '7', '-extfile', f('broker.ext')]);
  await runOpenssl(['pkcs12', '-export', '-in', f('broker.pem'), '-inkey', f('broker.key'), '-certfile', f('ca.pem'),
    '-name', 'broker', '-out', f('broker.p12'), '-passout', `pass:${storePassword}`]);
  return { caFile: f('ca.pem'), keystore: f('broker.p12'), storePassword };
}

function runOpenssl(args) {
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn(process.env.OPENSSL || 'openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', (err) => reject(new Error(`cannot run openssl (${err.message}); it makes the broker's TLS certificate`)));
    child.on('close', (code) => {
      if (code === 0) return resolve();
      reject(new Error(`openssl ${args[0]} failed (exit ${code}):\n${output.trim().split('\n').slice(-10).join('\n')}`));
    });
  });
}

function log4jText(file) {
  return `# Written by scripts/kafka-lib.mjs
status = error
name = migrate-kafka

appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${file}
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n

appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
appender.console.filter.threshold.type = ThresholdFilter
appender.console.filter.threshold.level = error

rootLogger.level = info
rootLogger.appenderRef.file.ref = FILE
rootLogger.appenderRef.console.ref = STDOUT

logger.kafka.name = kafka
logger.kafka.level = info
logger.apache.name = org.apache.kafka
logger.apache.level = info
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.state.name = state.change.logger
logger.state.level = warn
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = warn
`;
}

// ---------------------------------------------------------------------------------------------
// State file, for stopping from another process

/** The contents of `<dataDir>/broker.json`, or null. */
export async function readKafkaState(dataDir) {
  try {
    return JSON.parse(await readFile(path.join(path.resolve(dataDir), STATE_FILE), 'utf8'));
  } catch {
    return null;
  }
}

/**
 * The state in broker.json when it names a live, started Kafka process of this dataDir that
 * accepts connections; else null.
 */
export async function runningKafka(dataDir) {
  const state = await readKafkaState(dataDir);
  if (!state?.ready || !isOurBroker(state.pid, path.resolve(dataDir))) return null;
  return (await canConnect(HOST, state.port)) ? state : null;
}

/**
 * Stops the broker recorded in `<dataDir>/broker.json`. Returns true if one was running,
 * false if there was nothing to stop. The pid is only signalled when it is still a Kafka
 * process started with this dataDir's server.properties (pids get reused).
 */
export async function stopKafkaFromStateFile(dataDir, { timeoutMs = DEFAULT_STOP_TIMEOUT_MS } = {}) {
  dataDir = path.resolve(dataDir);
  const state = await readKafkaState(dataDir);
  let stopped = false;
  if (state && Number.isInteger(state.pid) && isOurBroker(state.pid, dataDir)) {
    await killGroup(state.pid, () => pidAlive(state.pid), timeoutMs);
    stopped = true;
  }
  await rm(path.join(dataDir, STATE_FILE), { force: true });
  return stopped;
}

function isOurBroker(pid, dataDir) {
  if (!Number.isInteger(pid) || pid <= 1 || !pidAlive(pid)) return false;
  try {
    const cmdline = readProc(pid, 'cmdline').split('\0');
    return cmdline.includes('kafka.Kafka') && cmdline.includes(path.join(dataDir, 'server.properties'));
  } catch {
    return false; // no /proc: refuse to signal a pid we cannot identify
  }
}

// ---------------------------------------------------------------------------------------------
// Processes

function readProc(pid, file) {
  return readFileSync(`/proc/${pid}/${file}`, 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Distinct free TCP ports on 127.0.0.1, found by binding port 0 and closing. */
export async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, HOST, resolve);
      });
      servers.push(server);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(() => resolve()))));
  }
}

async function canConnectAll(ports) {
  for (const p of ports) if (!(await canConnect(HOST, p))) return false;
  return true;
}

function canConnect(host, port, timeoutMs = 1_000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * What to quote when the broker fails: its ERROR lines and their causes (the reason is there,
 * while the last lines are mostly shutdown noise), then the last lines of this launch's log,
 * or of its stdout/stderr when it logged nothing (a JVM that did not get as far as logging).
 */
async function logTail(dataDir, offsets, lines = 20) {
  const serverLog = path.join(dataDir, SERVER_LOG);
  const stdoutLog = path.join(dataDir, STDOUT_LOG);
  const server = (await readSince(serverLog, offsets.server)).trimEnd();
  const parts = [];
  if (server) {
    const errors = [
      ...new Set(server.split('\n').filter((line) => /^\[[^\]]+\] (ERROR|FATAL) |^Caused by: /.test(line))),
    ];
    if (errors.length > 0) parts.push(`errors:\n${errors.slice(0, 8).join('\n')}`);
    parts.push(`last ${lines} lines of ${serverLog}:\n${server.split('\n').slice(-lines).join('\n')}`);
  } else {
    const out = (await readSince(stdoutLog, offsets.stdout)).trimEnd();
    parts.push(out ? `last ${lines} lines of ${stdoutLog}:\n${out.split('\n').slice(-lines).join('\n')}` : '(no log written)');
  }
  return parts.join('\n');
}

async function readPorts(dataDir) {
  const state = await readKafkaState(dataDir);
  if (state?.port && state?.controllerPort) return { port: state.port, controllerPort: state.controllerPort };
  try {
    const text = await readFile(path.join(dataDir, 'server.properties'), 'utf8');
    const port = Number(/PLAINTEXT:\/\/[^:]+:(\d+)/.exec(text)?.[1]);
    const controllerPort = Number(/CONTROLLER:\/\/[^:]+:(\d+)/.exec(text)?.[1]);
    return port && controllerPort ? { port, controllerPort } : null;
  } catch {
    return null;
  }
}

