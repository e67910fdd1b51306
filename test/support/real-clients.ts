// The Kafka clients teams really run, started by the tests as the application under migration:
// Kafka's own Java clients and console tools (from the jars scripts/kafka-lib.mjs fetches, which
// include kafka-clients and kafka-tools), small Java programs run from source (java runs a
// single .java file without a separate javac step), librdkafka through Debian's kcat, and
// librdkafka through confluent-kafka (PyPI) in a virtualenv cached beside the broker's jars.
//
// Nothing here speaks Kafka's protocol itself: each helper runs the real client as a process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { cacheRoot, ensureKafkaJars, KAFKA_VERSION } from '../../scripts/kafka-lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Java programs of the tests' own (e.g. a transactional producer), run from source. */
export const JAVA_PROGRAMS = path.join(HERE, 'java');

/** Fast start over peak throughput, as the broker's own tools are run in scripts/kafka-lib.mjs. */
const JVM_FLAGS = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true'];

/** confluent-kafka from PyPI bundles its own librdkafka; pinned so a test run means one client version. */
export const CONFLUENT_KAFKA_VERSION = '2.16.1';

function java(): string {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/**
 * The Java clients and tools are always the default version's (4.1), whatever broker the tests
 * run against (MIGRATE_KAFKA_VERSION=3.9.2): newer clients on an older broker is what teams run
 * mid-upgrade, and the tools keep the class names used here (3.9 has ConsoleProducer in kafka.tools).
 */
async function classpath(): Promise<string> {
  return `${await ensureKafkaJars({ version: KAFKA_VERSION })}${path.sep}*`;
}

/** A client process started in its own process group; stop() ends the whole group. */
export interface ClientProcess {
  readonly child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Resolves when its output matches `pattern`; rejects on exit or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with its exit code (or signal name) once it has exited. */
  exited(): Promise<number | string>;
  /** SIGTERM to the group (a Java consumer leaves its group cleanly on it), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Writes a line to its stdin (started with `interactive`), e.g. a command for a test's Java program. */
  send(line: string): void;
}

/** How to start a client: `stdin` is written and closed at once; `interactive` keeps stdin open for send(). */
export interface ClientOptions {
  stdin?: string;
  interactive?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts `command` in its own process group, collecting its output. */
export function startClient(command: string, args: string[], o: ClientOptions = {}): ClientProcess {
  const child = spawn(command, args, {
    detached: true,
    stdio: [o.stdin === undefined && !o.interactive ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...o.env },
    cwd: o.cwd,
  });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 1_000_000) out = out.slice(-500_000);
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  if (o.stdin !== undefined) child.stdin?.[o.interactive ? 'write' : 'end'](o.stdin);
  // A client that exits while a line is on its way would otherwise crash the test with EPIPE.
  child.stdin?.on('error', () => undefined);
  const exit = new Promise<number | string>((resolve) => {
    child.on('error', (err) => {
      out += `\n${command}: ${err.message}`;
      resolve('error');
    });
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  let ended: number | string | undefined;
  void exit.then((e) => {
    ended = e;
    for (const l of listeners) l();
  });
  const stop = async (graceMs = 15_000): Promise<void> => {
    if (ended !== undefined) return;
    signal(child.pid, 'SIGTERM');
    const timer = setTimeout(() => signal(child.pid, 'SIGKILL'), graceMs);
    await exit;
    clearTimeout(timer);
  };
  process.once('exit', () => signal(child.pid, 'SIGKILL'));
  return {
    child,
    output: () => out,
    exited: () => exit,
    stop,
    send: (line) => {
      if (!o.interactive || !child.stdin) throw new Error(`${path.basename(command)} was not started with interactive stdin`);
      child.stdin.write(`${line}\n`);
    },
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(out)) done(resolve);
          else if (ended !== undefined) done(() => reject(new Error(`${path.basename(command)} exited (${ended}) before printing ${pattern}:\n${out.slice(-3000)}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`${path.basename(command)} did not print ${pattern} within ${timeoutMs} ms:\n${out.slice(-3000)}`))), timeoutMs);
        const done = (fn: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          fn();
        };
        listeners.add(check);
        check();
      }),
  };
}

function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // already gone
  }
}

/** Runs a client to its end; rejects with its output when it exits non-zero or outlives `timeoutMs`. */
export async function runClient(command: string, args: string[], o: { stdin?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const p = startClient(command, args, o);
  const timer = setTimeout(() => void p.stop(2_000), o.timeoutMs ?? 120_000);
  const code = await p.exited();
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${path.basename(command)} ${args.slice(0, 4).join(' ')} failed (${code}):\n${p.output().slice(-3000)}`);
  return p.output();
}

/** Starts a class from Kafka's jars (a console tool, e.g. org.apache.kafka.tools.consumer.ConsoleConsumer). */
export async function startKafkaTool(mainClass: string, args: string[], o: ClientOptions = {}): Promise<ClientProcess> {
  return startClient(java(), [...JVM_FLAGS, '-cp', await classpath(), mainClass, ...args], o);
}

/** Runs a class from Kafka's jars to its end and returns its output. */
export async function runKafkaTool(mainClass: string, args: string[], o: { stdin?: string; timeoutMs?: number } = {}): Promise<string> {
  return runClient(java(), [...JVM_FLAGS, '-cp', await classpath(), mainClass, ...args], o);
}

/** Starts a Java program of test/support/java/ from its source, with kafka-clients on the classpath. */
export async function startJavaProgram(file: string, args: string[], o: ClientOptions = {}): Promise<ClientProcess> {
  return startClient(java(), [...JVM_FLAGS, '-cp', await classpath(), path.join(JAVA_PROGRAMS, file), ...args], o);
}

/** kcat (librdkafka's command-line client, Debian package kcat); a clear error when it is not installed. */
export function kcat(): string {
  const found = spawnSync('kcat', ['-V'], { encoding: 'utf8' });
  if (found.error) throw new Error('kcat is not installed (Debian: apt-get install kcat); .ci/run installs it');
  return 'kcat';
}

/** librdkafka's version as kcat reports it (e.g. "2.0.2"). */
export function kcatLibrdkafkaVersion(): string {
  const out = spawnSync(kcat(), ['-V'], { encoding: 'utf8' }).stdout;
  return /librdkafka version ([\d.]+)/.exec(out)?.[1] ?? 'unknown';
}

/**
 * A python with confluent-kafka installed: a virtualenv in the cache, made on first use (pip from
 * PyPI, a minute at most); returns the interpreter's path.
 */
export async function confluentPython(): Promise<string> {
  const dir = path.join(cacheRoot(), `python-confluent-kafka-${CONFLUENT_KAFKA_VERSION}`);
  const python = path.join(dir, 'bin', 'python');
  const marker = path.join(dir, '.complete');
  if (existsSync(marker)) return python;
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  await runClient('python3', ['-m', 'venv', dir]);
  await runClient(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `confluent-kafka==${CONFLUENT_KAFKA_VERSION}`], { timeoutMs: 300_000 });
  await runClient('touch', [marker]);
  return python;
}

/** Python programs of the tests' own (confluent-kafka clients), in test/support/python/. */
export const PYTHON_PROGRAMS = path.join(HERE, 'python');

/** A consumer group protocol: KIP-848's `consumer`, or the `classic` one (JoinGroup/SyncGroup). */
export type GroupProtocol = 'consumer' | 'classic';

/** What a consumer under test reads: from the beginning, in `group`, committing every 200 ms. */
export interface ConsumerOptions {
  brokers: string[];
  group: string;
  topic: string;
  protocol: GroupProtocol;
}

/**
 * Kafka's Java console consumer (kafka-clients' KafkaConsumer) in a group of the given protocol,
 * from the beginning, committing every 200 ms; SIGTERM (stop()) closes it, which leaves the group.
 */
export async function startJavaConsumer(o: ConsumerOptions): Promise<ClientProcess> {
  return startKafkaTool('org.apache.kafka.tools.consumer.ConsoleConsumer', [
    '--bootstrap-server', o.brokers.join(','),
    '--topic', o.topic,
    '--group', o.group,
    '--from-beginning',
    '--consumer-property', `group.protocol=${o.protocol}`,
    '--consumer-property', `client.id=java-${o.protocol}`,
    '--consumer-property', 'auto.commit.interval.ms=200',
  ]);
}

/**
 * A librdkafka consumer (confluent-kafka, test/support/python/consume.py) in a group of the given
 * protocol, from the beginning, committing every 200 ms. It prints "assigned N partitions" as its
 * assignment changes; SIGTERM (stop()) closes it, which leaves the group.
 */
export async function startLibrdkafkaConsumer(o: ConsumerOptions): Promise<ClientProcess> {
  const python = await confluentPython();
  return startClient(python, ['-u', path.join(PYTHON_PROGRAMS, 'consume.py'), o.brokers.join(','), o.group, o.topic, o.protocol]);
}

/** Produces `lines` ("key<TAB>value" each) with kcat; `args` adds options, e.g. ['-z', 'lz4'] or ['-Z']. */
export async function kcatProduce(brokers: string[], topic: string, lines: string[], args: string[] = []): Promise<void> {
  await runClient(kcat(), ['-P', '-b', brokers.join(','), '-t', topic, '-K', '\t', ...args], { stdin: `${lines.join('\n')}\n` });
}

/** Produces `lines` ("key<TAB>value" each) with Kafka's ConsoleProducer; `args` adds options, e.g. ['--compression-codec', 'lz4']. */
export async function consoleProduce(brokers: string[], topic: string, lines: string[], args: string[] = []): Promise<void> {
  await runKafkaTool(
    'org.apache.kafka.tools.ConsoleProducer',
    ['--bootstrap-server', brokers.join(','), '--topic', topic, '--property', 'parse.key=true', '--property', 'key.separator=\t', ...args],
    { stdin: `${lines.join('\n')}\n` },
  );
}
