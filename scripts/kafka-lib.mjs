// A real Apache Kafka broker (KRaft, broker+controller in one JVM), or a cluster of them on
// loopback, run from the Maven Central jars listed in scripts/kafka/pom.xml. No Docker, no Kafka
// distribution tarball: Java 17 and Maven are enough. Plain JS ESM on Node builtins only, so it
// runs before any build.
//
//   ensureKafkaJars({ log, version })  -> directory of the broker's jars (resolved once, cached)
//   startKafka({ dataDir, log })       -> handle { brokers, port, controllerPort, pid, stop(), restart() }
//   startKafka({ dataDir, security: { users } })
//   startKafka({ dataDir, brokerProperties: { 'group.initial.rebalance.delay.ms': '3000' } })
//                                      -> the same, plus TLS and SASL/SCRAM listeners (handle.security)
//   startKafkaCluster({ dataDir, nodes: 3 })
//                                      -> handle { brokers, nodes, stop(), killNode(id), startNode(id) }
//   stopKafkaFromStateFile(dataDir)    -> stops the broker (or cluster) recorded in dataDir
//
// The Kafka version is KAFKA_VERSION unless a `version` option or $MIGRATE_KAFKA_VERSION names
// another (3.9.0 or later: the oldest broker the project supports is the last 3.x).
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
/** The oldest broker the tests run against (`npm run test:kafka-3.9`): the last 3.x line. */
export const OLDEST_KAFKA_VERSION = '3.9.2';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const POM = path.join(HERE, 'kafka', 'pom.xml');
const HOST = '127.0.0.1';
const STATE_FILE = 'broker.json';
const CLUSTER_FILE = 'cluster.json';
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
const BROKER_HEAP = ['-Xms256m', '-Xmx512m'];
const BROKER_JVM_FLAGS = [
  ...(process.env.MIGRATE_KAFKA_JVM_OPTS === undefined
    ? FAST_START_FLAGS
    : process.env.MIGRATE_KAFKA_JVM_OPTS.split(/\s+/).filter(Boolean)),
];
const TOOL_JVM_FLAGS = ['-Xmx256m', ...FAST_START_FLAGS];
// Three of them share two cores with the tests: a smaller heap each (measured with jstat during
// test/reliability/cluster-faults.test.ts: under 70 MB of heap in use per node).
const CLUSTER_NODE_HEAP = ['-Xms128m', '-Xmx384m'];

/**
 * The Kafka version to run: `version`, else $MIGRATE_KAFKA_VERSION, else KAFKA_VERSION. Throws
 * for anything but x.y.z from 3.9.0 on (older brokers lack the KRaft settings used here).
 */
export function kafkaVersion(version) {
  const v = (version ?? process.env.MIGRATE_KAFKA_VERSION ?? '').trim() || KAFKA_VERSION;
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(v);
  if (!m) throw new Error(`Kafka version "${v}" is not x.y.z (from MIGRATE_KAFKA_VERSION or --version)`);
  if (Number(m[1]) < 3 || (Number(m[1]) === 3 && Number(m[2]) < 9)) {
    throw new Error(`Kafka ${v} is older than 3.9.0, the oldest broker these scripts can run (KRaft quorum bootstrap servers came in 3.9)`);
  }
  return v;
}

// Kafka 3.x logs through SLF4J 1 and reload4j (log4j 1), which its POM brings; 4.x through log4j 2,
// which scripts/kafka/pom.xml adds. Two SLF4J bindings on one classpath would pick one at random,
// so 3.x goes without the log4j 2 jars.
const usesReload4j = (version) => Number(version.split('.')[0]) < 4;
const LOG4J2_ARTIFACTS = ['log4j-slf4j-impl', 'log4j-core', 'log4j-api'];

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
export async function ensureKafkaJars({ log = noop, version } = {}) {
  version = kafkaVersion(version);
  const base = path.join(cacheRoot(), `kafka-${version}`);
  const libs = path.join(base, 'libs');
  const marker = path.join(base, 'libs.complete');
  const pomHash = createHash('sha256').update(await readFile(POM)).digest('hex');

  if (await markerMatches(marker, pomHash, libs)) return libs;

  await mkdir(base, { recursive: true });
  // Resolve into a private staging directory, then move it into place, so that two processes
  // resolving at once (a test run and `kafka.mjs start`) never see each other's half-done copy.
  const staging = path.join(base, `libs.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  log(`resolving Kafka ${version} jars from Maven Central into ${libs} (first run only)`);
  const started = Date.now();
  try {
    await runMaven([
      '-q',
      '-B',
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${staging}`,
      `-Dkafka.version=${version}`,
      ...(usesReload4j(version) ? [`-DexcludeArtifactIds=${LOG4J2_ARTIFACTS.join(',')}`] : []),
      '-f',
      POM,
    ]);
    const jars = (await readdir(staging)).filter((f) => f.endsWith('.jar'));
    if (!jars.some((f) => f.startsWith(`kafka_2.13-${version}`))) {
      throw new Error(`Maven finished but ${staging} holds no kafka_2.13-${version} jar (is ${version} on Maven Central?)`);
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
export async function startKafka({ dataDir, log = noop, port, controllerPort, timeoutMs, security, version, brokerProperties } = {}) {
  if (!dataDir) throw new Error('startKafka: dataDir is required');
  dataDir = path.resolve(dataDir);
  await mkdir(dataDir, { recursive: true });
  version = kafkaVersion(version);
  const classpath = `${await ensureKafkaJars({ log, version })}${path.sep}*`;

  const formatted = await isFormatted(dataDir);
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
      return await startOn({ dataDir, classpath, version, ...ports, format: !formatted, log, timeoutMs, secure, brokerProperties });
    } catch (err) {
      // Free ports are found by binding and closing: another process may take one before the
      // broker binds it. A fresh dir can be formatted again for other ports; try those.
      if (!(err?.portInUse && pickPorts && !formatted && attempt < 3)) throw err;
      log(`port ${ports.port} or ${ports.controllerPort} was taken meanwhile; retrying on other ports`);
      await rm(path.join(dataDir, LOG_DIRS), { recursive: true, force: true });
    }
  }
}

async function startOn({ dataDir, classpath, version, port, controllerPort, format, log, timeoutMs, secure, brokerProperties }) {
  const node = await writeNodeFiles({
    dataDir,
    version,
    properties: { nodeId: 1, port, controllerPort, quorum: `controller.quorum.bootstrap.servers=${HOST}:${controllerPort}`, replication: SINGLE, secure, overrides: brokerProperties },
  });

  if (format) {
    const clusterId = await randomClusterId(classpath, dataDir);
    // SCRAM credentials go into the cluster metadata at format time (KRaft has no ZooKeeper to
    // hold them): one --add-scram per user and mechanism. The arguments hold the passwords, so
    // a failure quotes only the tool's output (runJava never echoes its arguments).
    const scram = (secure?.users ?? []).flatMap((u) =>
      SCRAM_MECHANISMS.flatMap((m) => ['--add-scram', `${m}=[name=${u.name},password=${u.password}]`]),
    );
    await formatNode(classpath, dataDir, clusterId, ['--standalone', ...scram]);
    log(`formatted ${path.join(dataDir, LOG_DIRS)} (cluster ${clusterId})`);
  }

  const securePorts = secure?.ports;
  const launchOptions = { ...node, dataDir, classpath, version, port, controllerPort, log, timeoutMs, securePorts };
  let current = await launch(launchOptions);
  const handle = {
    brokers: `${HOST}:${port}`,
    port,
    controllerPort,
    pid: current.pid,
    dataDir,
    version,
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

// ---------------------------------------------------------------------------------------------
// Cluster

/**
 * Starts `nodes` brokers on loopback, each broker and controller (node.id 1..n, one static
 * controller quorum of all of them, one cluster id), with data in `<dataDir>/node-<id>`, and
 * resolves once every one serves clients. Internal topics and new topics default to replication
 * factor min(3, nodes) and min.insync.replicas one less (at least 1). A formatted dataDir is
 * started again as it was, on its old ports. The nodes are launched together: none of them
 * finishes starting before a majority of the quorum is up.
 */
export async function startKafkaCluster({ dataDir, nodes = 3, log = noop, timeoutMs, version } = {}) {
  if (!dataDir) throw new Error('startKafkaCluster: dataDir is required');
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) throw new Error(`startKafkaCluster: nodes must be 1 to 9, not ${nodes}`);
  dataDir = path.resolve(dataDir);
  await mkdir(dataDir, { recursive: true });
  version = kafkaVersion(version);
  const classpath = `${await ensureKafkaJars({ log, version })}${path.sep}*`;
  const ids = Array.from({ length: nodes }, (_, i) => i + 1);
  const nodeDir = (id) => path.join(dataDir, `node-${id}`);
  const factor = Math.min(3, nodes);
  const replication = { factor, minIsr: Math.max(1, factor - 1) };

  const previous = await readClusterState(dataDir);
  const formatted = previous?.nodes?.length === nodes && (await Promise.all(ids.map((id) => isFormatted(nodeDir(id))))).every(Boolean);
  for (let attempt = 1; ; attempt++) {
    let ports;
    if (formatted) {
      ports = previous.nodes.map((n) => ({ port: n.port, controllerPort: n.controllerPort }));
    } else {
      const free = await freePorts(2 * nodes);
      ports = ids.map((_, i) => ({ port: free[2 * i], controllerPort: free[2 * i + 1] }));
    }
    const voters = ids.map((id, i) => `${id}@${HOST}:${ports[i].controllerPort}`).join(',');
    const members = await Promise.all(
      ids.map(async (id, i) => {
        const dir = nodeDir(id);
        await mkdir(dir, { recursive: true });
        const files = await writeNodeFiles({
          dataDir: dir,
          version,
          heap: CLUSTER_NODE_HEAP,
          // Static voters: the same on 3.9 and 4.x, and nothing to agree on at format time.
          properties: { nodeId: id, ...ports[i], quorum: `controller.quorum.voters=${voters}`, replication },
        });
        return { id, dataDir: dir, ...ports[i], launchOptions: { ...files, dataDir: dir, classpath, version, ...ports[i], log, timeoutMs }, current: null };
      }),
    );
    const brokers = members.map((m) => `${HOST}:${m.port}`).join(',');
    const state = {
      brokers,
      nodes: members.map(({ id, port, controllerPort, dataDir: dir }) => ({ id, port, controllerPort, dataDir: dir })),
      version,
      dataDir,
      startedAt: new Date().toISOString(),
      ready: false,
    };
    const writeState = (value) => writeFile(path.join(dataDir, CLUSTER_FILE), `${JSON.stringify(value, null, 2)}\n`);
    await writeState(state);
    if (!formatted) {
      const clusterId = await randomClusterId(classpath, dataDir);
      await Promise.all(members.map((m) => formatNode(classpath, m.dataDir, clusterId, [])));
      log(`formatted ${nodes} nodes in ${dataDir} (cluster ${clusterId})`);
    }
    const started = await Promise.allSettled(members.map(async (m) => (m.current = await launch(m.launchOptions))));
    const failed = started.find((r) => r.status === 'rejected');
    if (!failed) {
      await writeState({ ...state, ready: true });
      log(`Kafka cluster of ${nodes} is up on ${brokers}`);
      return clusterHandle({ dataDir, version, brokers, members, log });
    }
    await Promise.all(members.map((m) => m.current?.stop(5_000)));
    await rm(path.join(dataDir, CLUSTER_FILE), { force: true });
    const err = failed.reason;
    if (!(err?.portInUse && !formatted && attempt < 3)) throw err;
    log('a port was taken meanwhile; retrying on other ports');
    await Promise.all(members.map((m) => rm(path.join(m.dataDir, LOG_DIRS), { recursive: true, force: true })));
  }
}

function clusterHandle({ dataDir, version, brokers, members, log }) {
  const member = (id) => {
    const m = members.find((x) => x.id === id);
    if (!m) throw new Error(`no node ${id} in this cluster (nodes ${members.map((x) => x.id).join(', ')})`);
    return m;
  };
  const handle = {
    brokers,
    dataDir,
    version,
    get nodes() {
      return members.map((m) => ({ id: m.id, broker: `${HOST}:${m.port}`, port: m.port, controllerPort: m.controllerPort, dataDir: m.dataDir, pid: m.current?.pid ?? null }));
    },
    pids: () => members.flatMap((m) => (m.current ? [m.current.pid] : [])),
    async stop() {
      // All at once: a node stopping alone waits for the quorum to hear of it, and a quorum
      // shrinking under it can keep its controlled shutdown waiting; killGroup ends that at 10 s.
      await Promise.all(members.map(async (m) => {
        await m.current?.stop(10_000);
        m.current = null;
        await rm(path.join(m.dataDir, STATE_FILE), { force: true });
      }));
      await rm(path.join(dataDir, CLUSTER_FILE), { force: true });
    },
    async killNode(id) {
      const m = member(id);
      log(`killing node ${id} (pid ${m.current?.pid ?? 'none'}) with SIGKILL`);
      await m.current?.kill();
      m.current = null;
    },
    async stopNode(id) {
      const m = member(id);
      await m.current?.stop();
      m.current = null;
    },
    async startNode(id) {
      const m = member(id);
      if (m.current?.alive()) throw new Error(`node ${id} is running (pid ${m.current.pid})`);
      log(`starting node ${id} again`);
      m.current = await launch(m.launchOptions);
    },
  };
  return handle;
}

async function readClusterState(dataDir) {
  try {
    return JSON.parse(await readFile(path.join(dataDir, CLUSTER_FILE), 'utf8'));
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// One node: its files, its format, its process

/** What a single broker needs of replication: one copy of everything. */
const SINGLE = { factor: 1, minIsr: 1 };

function isFormatted(dataDir) {
  return exists(path.join(dataDir, LOG_DIRS, 'meta.properties'));
}

/** server.properties and the logging config of one node, for its Kafka version; returns their paths and JVM flags. */
async function writeNodeFiles({ dataDir, version, heap = BROKER_HEAP, properties }) {
  const serverProperties = path.join(dataDir, 'server.properties');
  await writeFile(serverProperties, serverPropertiesText({ dataDir, ...properties }));
  const serverLog = path.join(dataDir, SERVER_LOG);
  let logFlag;
  if (usesReload4j(version)) {
    const config = path.join(dataDir, 'log4j.properties');
    await writeFile(config, reload4jText(serverLog));
    logFlag = `-Dlog4j.configuration=file:${config}`;
  } else {
    const config = path.join(dataDir, 'log4j2.properties');
    await writeFile(config, log4jText(serverLog));
    logFlag = `-Dlog4j2.configurationFile=${config}`;
  }
  return { serverProperties, jvmFlags: [...heap, ...BROKER_JVM_FLAGS, logFlag] };
}

async function randomClusterId(classpath, cwd) {
  return (await runJava(classpath, 'kafka.tools.StorageTool', ['random-uuid'], cwd)).trim();
}

function formatNode(classpath, dataDir, clusterId, extra) {
  const args = ['format', '-t', clusterId, '-c', path.join(dataDir, 'server.properties'), ...extra];
  return runJava(classpath, 'kafka.tools.StorageTool', args, dataDir);
}

async function launch({ dataDir, classpath, version, jvmFlags, serverProperties, port, controllerPort, log, timeoutMs, securePorts }) {
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
      [...jvmFlags, `-Dkafka.logs.dir=${dataDir}`, '-cp', classpath, 'kafka.Kafka', serverProperties],
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
  log(`started Kafka ${version} (pid ${pid}) on ${HOST}:${port}, waiting for it to serve`);
  // Recorded at once, so that a broker whose starter died meanwhile can still be found and stopped.
  const state = {
    pid,
    brokers: `${HOST}:${port}`,
    port,
    controllerPort,
    startedAt: new Date().toISOString(),
    ready: false,
    version,
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
  // No shutdown at all, as a machine that loses power: SIGKILL and wait for the process to go.
  const kill = async () => {
    await killGroup(pid, isAlive, 5_000, 'SIGKILL');
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
  return { pid, stop, kill, alive: isAlive };
}

function serverPropertiesText({ dataDir, nodeId, port, controllerPort, quorum, replication, secure, overrides = {} }) {
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
  const { factor, minIsr } = replication;
  const lines = [
    '# Written by scripts/kafka-lib.mjs: a KRaft node (broker and controller) for local runs and tests.',
    'process.roles=broker,controller',
    `node.id=${nodeId}`,
    quorum,
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
    // Every internal topic must accept the replication the cluster can give (1 on a single node),
    // or the group and transaction coordinators never become available.
    `default.replication.factor=${factor}`,
    `min.insync.replicas=${minIsr}`,
    `offsets.topic.replication.factor=${factor}`,
    'offsets.topic.num.partitions=1',
    `transaction.state.log.replication.factor=${factor}`,
    `transaction.state.log.min.isr=${minIsr}`,
    'transaction.state.log.num.partitions=1',
    // Unknown to 3.9, which logs that and goes on.
    `share.coordinator.state.topic.replication.factor=${factor}`,
    `share.coordinator.state.topic.min.isr=${minIsr}`,
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
  // Overrides replace the line of the same name (e.g. a production-like group.initial.rebalance.delay.ms).
  const overridden = lines.filter((l) => !Object.hasOwn(overrides, l.split('=')[0]));
  overridden.push(...Object.entries(overrides).map(([name, value]) => `${name}=${value}`));
  return `${overridden.join('\n')}\n`;
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

/** The same logging for Kafka 3.x, which reads a log4j 1 (reload4j) properties file. */
function reload4jText(file) {
  return `# Written by scripts/kafka-lib.mjs
log4j.rootLogger=INFO, FILE, STDOUT

log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=${file}
log4j.appender.FILE.Append=true
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=[%d] %p %m (%c)%n

log4j.appender.STDOUT=org.apache.log4j.ConsoleAppender
log4j.appender.STDOUT.Threshold=ERROR
log4j.appender.STDOUT.layout=org.apache.log4j.PatternLayout
log4j.appender.STDOUT.layout.ConversionPattern=[%d] %p %m (%c)%n

log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
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
 * accepts connections; for a cluster's dataDir, the state in cluster.json when every node is
 * such a process (with `pids`); else null.
 */
export async function runningKafka(dataDir) {
  dataDir = path.resolve(dataDir);
  const cluster = await readClusterState(dataDir);
  if (cluster) {
    if (!cluster.ready) return null;
    const nodes = await Promise.all(cluster.nodes.map((n) => runningKafka(n.dataDir)));
    return nodes.every(Boolean) ? { ...cluster, pids: nodes.map((n) => n.pid) } : null;
  }
  const state = await readKafkaState(dataDir);
  if (!state?.ready || !isOurBroker(state.pid, dataDir)) return null;
  return (await canConnect(HOST, state.port)) ? state : null;
}

/**
 * Stops the broker recorded in `<dataDir>/broker.json`, or every node of the cluster recorded in
 * `<dataDir>/cluster.json` (at once). Returns true if any was running, false if there was
 * nothing to stop. A pid is only signalled when it is still a Kafka process started with its
 * dataDir's server.properties (pids get reused).
 */
export async function stopKafkaFromStateFile(dataDir, { timeoutMs = DEFAULT_STOP_TIMEOUT_MS } = {}) {
  dataDir = path.resolve(dataDir);
  const cluster = await readClusterState(dataDir);
  if (cluster) {
    const stopped = await Promise.all(
      (cluster.nodes ?? []).map((n) => stopKafkaFromStateFile(n.dataDir, { timeoutMs: Math.min(timeoutMs, 10_000) })),
    );
    await rm(path.join(dataDir, CLUSTER_FILE), { force: true });
    return stopped.some(Boolean);
  }
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

/**
 * Ports this process handed out recently. A port found free is closed again before its server
 * binds it, so the kernel can give the same port to the next caller: two services started side
 * by side (the test setup starts flagd, the registry and Unleash at once) once got the same port,
 * and the registry's readiness check took flagd's 404 for the registry. Each port is handed out
 * once per process within this window, long enough for any server here to bind it.
 */
const handedOut = new Map();
const HANDED_OUT_MS = 10 * 60_000;

/** Distinct free TCP ports on 127.0.0.1, found by binding port 0 and closing; never one this process handed out in the last 10 minutes. */
export async function freePorts(count) {
  const servers = [];
  const now = Date.now();
  for (const [port, at] of handedOut) if (now - at > HANDED_OUT_MS) handedOut.delete(port);
  try {
    const ports = [];
    // Held open until all are found, so the kernel cannot give one twice within this call.
    for (let tries = 0; ports.length < count; tries++) {
      if (tries > count + 1000) throw new Error(`freePorts: no ${count} free ports found`);
      const server = net.createServer();
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, HOST, resolve);
      });
      servers.push(server);
      const port = server.address().port;
      if (!handedOut.has(port)) ports.push(port);
    }
    for (const port of ports) handedOut.set(port, now);
    return ports;
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

