import { randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { access, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { openFlagEvaluator, openFlagProvider } from '../adapters/flags-open.js';
import type { KafkaCluster } from '../adapters/kafka.js';
import { connectKafka } from '../adapters/kafka-connect.js';
import { openSchemaRegistry } from '../adapters/schemas-open.js';
import { loadConfig, type Config } from '../config.js';
import { formatProblem, InvalidInputError, MigrateError } from '../errors.js';
import { parseJson } from '../util/json.js';
import { formatDuration } from '../util/time.js';
import { paint } from '../ui/paint.js';

/** Options of `migrate doctor`. */
export interface DoctorCommandOptions {
  cwd: string;
  stateDir?: string | undefined;
  config?: string | undefined;
  json: boolean;
  /** Also create and delete a scratch topic (needs Create and Delete on topics). */
  writeCheck: boolean;
  color: boolean;
  out: Writable;
  env?: Record<string, string | undefined>;
}

/** The outcome of one check: ok, a warning (works, with a caveat), failed, or not run. */
export interface DoctorCheck {
  name: string;
  status: 'ok' | 'warn' | 'fail' | 'skipped';
  message: string;
  /** What to do about a warning or failure. */
  fix?: string;
}

/** How long doctor waits for Kafka: a dead broker should be reported in seconds, not a minute. */
const KAFKA_TIMEOUTS = { connectionTimeoutMs: 3000, requestTimeoutMs: 5000 };

const START_BROKER = 'start a broker: npm run kafka:start, then export KAFKA_BROKERS=127.0.0.1:<port> as it prints (or set kafka.brokers in migrate.config.yaml)';

/** Runs every check, in order; a check that cannot run because an earlier one failed is "skipped". */
export async function runDoctor(o: Omit<DoctorCommandOptions, 'json' | 'color' | 'out'>): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  let config: Config;
  try {
    config = await loadConfig({ cwd: o.cwd, configPath: o.config, stateDir: o.stateDir, ...(o.env ? { env: o.env } : {}) });
  } catch (err) {
    if (!(err instanceof MigrateError)) throw err;
    checks.push({ name: 'config', status: 'fail', message: err.message, fix: err.hint ?? 'fix the setting named above in migrate.config.yaml or the environment' });
    for (const name of ['kafka', 'flags', 'schemas', 'state']) checks.push({ name, status: 'skipped', message: 'needs a valid configuration' });
    return checks;
  }
  checks.push({
    name: 'config',
    status: 'ok',
    message: config.file ? `read ${display(o.cwd, config.file)}` : 'no migrate.config.yaml; defaults and the environment',
  });
  checks.push(...(await kafkaChecks(config, o.writeCheck)));
  checks.push(await flagsCheck(config, o.cwd));
  if (config.flags.propagation) checks.push(await propagationCheck(config));
  checks.push(await schemasCheck(config, o.cwd));
  checks.push(await stateCheck(config, o.cwd));
  return checks;
}

/** Connect, describe the cluster, list topics; with --write-check, create and delete a scratch topic. */
async function kafkaChecks(config: Config, writeCheck: boolean): Promise<DoctorCheck[]> {
  const conn = config.kafka;
  const later = ['kafka topics', 'kafka write'];
  if (!conn) {
    return [
      { name: 'kafka', status: 'fail', message: 'no Kafka brokers configured', fix: START_BROKER },
      ...later.map((name) => ({ name, status: 'skipped' as const, message: 'needs a Kafka connection' })),
    ];
  }
  const at = conn.brokers.join(',');
  const out: DoctorCheck[] = [];
  let kafka: KafkaCluster;
  const started = Date.now();
  try {
    kafka = await connectKafka({ ...conn, ...KAFKA_TIMEOUTS });
  } catch (err) {
    return [
      { name: 'kafka', status: 'fail', message: oneLine(err), fix: kafkaFix(err, at) },
      ...later.map((name) => ({ name, status: 'skipped' as const, message: 'needs a Kafka connection' })),
    ];
  }
  try {
    try {
      const c = await kafka.describeCluster();
      const n = c.brokers.length;
      out.push({
        name: 'kafka',
        status: 'ok',
        message: `connected to ${at} in ${formatDuration(Date.now() - started)}: cluster ${c.clusterId}, ${n} ${n === 1 ? 'broker' : 'brokers'}, controller ${c.controller ?? 'unknown'}${conn.sasl ? `, SASL ${conn.sasl.mechanism} as ${conn.sasl.username}` : ''}${conn.ssl ? ', TLS' : ''}`,
      });
    } catch (err) {
      out.push({ name: 'kafka', status: 'fail', message: `connected to ${at}, but cannot describe the cluster: ${oneLine(err)}`, fix: kafkaFix(err, at, 'Describe on the cluster') });
    }
    try {
      const topics = await kafka.listTopics();
      const visible = topics.filter((t) => !t.startsWith('__'));
      const datarep = visible.filter((t) => t.startsWith('datarep.')).length;
      out.push({ name: 'kafka topics', status: 'ok', message: `${visible.length} topics visible (${datarep} datarep.*)` });
    } catch (err) {
      out.push({ name: 'kafka topics', status: 'fail', message: `cannot list topics: ${oneLine(err)}`, fix: kafkaFix(err, at, 'Describe on topics') });
    }
    out.push(writeCheck ? await scratchTopic(kafka, at) : { name: 'kafka write', status: 'skipped', message: 'pass --write-check to create and delete a scratch topic' });
  } finally {
    await kafka.close();
  }
  return out;
}

async function scratchTopic(kafka: KafkaCluster, at: string): Promise<DoctorCheck> {
  const name = `migrate-doctor-${randomBytes(4).toString('hex')}`;
  try {
    await kafka.createTopic({ name, partitions: 1, replicationFactor: 1, configs: {} });
  } catch (err) {
    return { name: 'kafka write', status: 'fail', message: `cannot create topic ${name}: ${oneLine(err)}`, fix: kafkaFix(err, at, 'Create on topics (kafka.topic creates datarep.* topics)') };
  }
  try {
    await kafka.deleteTopic(name);
  } catch (err) {
    return {
      name: 'kafka write',
      status: 'fail',
      message: `created topic ${name} but cannot delete it: ${oneLine(err)}`,
      fix: `${kafkaFix(err, at, 'Delete on topics')}; then delete ${name} by hand`,
    };
  }
  return { name: 'kafka write', status: 'ok', message: `created and deleted scratch topic ${name}` };
}

/** What to do about a Kafka error, by what the error says. */
function kafkaFix(err: unknown, at: string, permission?: string): string {
  const text = chain(err);
  if (/certificate is not trusted/.test(text)) return "set KAFKA_SSL_CA (or kafka.ssl.ca) to the PEM file of the CA that signed the brokers' certificates (docs/kafka-security.md)";
  if (/SASL|authenticat/i.test(text)) return 'check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (and KAFKA_SSL=true if the listener uses TLS)';
  if (/AUTHORIZATION|not authorized|denied/i.test(text)) return `grant this principal ${permission ?? 'the needed ACLs'} (kafka-acls.sh --add ...)`;
  if (/did not answer|ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|Connection|timeout/i.test(text)) {
    return `is a broker listening at ${at}? ${START_BROKER}; if the listener uses TLS, set KAFKA_SSL=true`;
  }
  return 'check kafka.* in migrate.config.yaml and KAFKA_* in the environment';
}

/** The flag provider: the flag file exists, parses as flagd JSON, and can be rewritten atomically. */
async function flagsCheck(config: Config, cwd: string): Promise<DoctorCheck> {
  if (config.flags.provider === 'unleash') return unleashCheck(config);
  const file = config.flags.file;
  const shown = display(cwd, file);
  const dir = path.dirname(file);
  if (!existsSync(file)) {
    if (!(await can(dir, constants.W_OK))) {
      return { name: 'flags', status: 'fail', message: `flag file ${shown} does not exist and ${display(cwd, dir)} is not writable`, fix: `create ${shown} or make ${display(cwd, dir)} writable; or set flags.file / MIGRATE_FLAGS_FILE` };
    }
    return {
      name: 'flags',
      status: 'warn',
      message: `flag file ${shown} does not exist: flag.set will create it, flag.check will find no flags`,
      fix: `point flags.file in migrate.config.yaml (or MIGRATE_FLAGS_FILE) at the flag file your services read`,
    };
  }
  try {
    const provider = await openFlagProvider(config.flags);
    await provider.get('migrate-doctor-probe'); // parses and checks the whole file
  } catch (err) {
    const problems = err instanceof InvalidInputError ? err.problems.map(formatProblem).join('; ') : oneLine(err);
    return { name: 'flags', status: 'fail', message: `flag file ${shown} does not load: ${problems}`, fix: 'fix the file: flagd format, {"flags": {"<key>": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}}}' };
  }
  const doc = parseJson(await readFile(file, 'utf8')) as { flags?: Record<string, unknown> };
  const count = Object.keys(doc.flags ?? {}).length;
  // flag.set writes a temp file beside the flag file and renames it over: both must be writable.
  const writable = (await can(file, constants.W_OK)) && (await can(dir, constants.W_OK));
  if (!writable) {
    return { name: 'flags', status: 'fail', message: `flag file ${shown} parses (${count} flags) but cannot be rewritten`, fix: `make ${shown} and its directory writable by this user (flag.set writes a temp file beside it, then renames it)` };
  }
  return { name: 'flags', status: 'ok', message: `flag file ${shown}: ${count} ${count === 1 ? 'flag' : 'flags'}, writable` };
}

/** flags.propagation: the evaluation endpoint flag.set waits on answers (a probe flag it does not know). */
async function propagationCheck(config: Config): Promise<DoctorCheck> {
  const fix = 'point flags.propagation at the endpoint your applications evaluate flags with (MIGRATE_FLAGS_OFREP_URL, OFREP_TOKEN; or unleash: true with UNLEASH_CLIENT_TOKEN), or remove it';
  try {
    const evaluator = await openFlagEvaluator(config.flags);
    if (!evaluator) return { name: 'propagation', status: 'skipped', message: 'not configured' };
    await evaluator.evaluate('migrate-doctor-probe');
    return { name: 'propagation', status: 'ok', message: `${evaluator.description} answers: flag.set waits until it serves each switch` };
  } catch (err) {
    return { name: 'propagation', status: 'fail', message: oneLine(err), fix };
  }
}

/** Unleash: the token is accepted, and the project and environment exist (asked through a flag read). */
async function unleashCheck(config: Config): Promise<DoctorCheck> {
  const fix = 'set UNLEASH_URL (or flags.unleash.url) and UNLEASH_API_TOKEN (an admin API token); flags.unleash.project / environment name where the flags live (docs/flags/unleash.md)';
  try {
    const provider = await openFlagProvider(config.flags);
    await provider.get('migrate-doctor-probe');
    return { name: 'flags', status: 'ok', message: `${provider.description}: token accepted, project and environment found` };
  } catch (err) {
    return { name: 'flags', status: 'fail', message: oneLine(err), fix };
  }
}

/** The schema source: the directory is readable and every schemas/<Event>/<n>.json in it parses. */
async function schemasCheck(config: Config, cwd: string): Promise<DoctorCheck> {
  if (config.schemas.source === 'registry') return registryCheck(config);
  const dir = config.schemas.dir;
  const shown = display(cwd, dir);
  if (!existsSync(dir)) {
    return { name: 'schemas', status: 'warn', message: `schema directory ${shown} does not exist: schema.register will create it`, fix: 'point schemas.dir in migrate.config.yaml (or MIGRATE_SCHEMAS_DIR) at your event schemas' };
  }
  let events: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    events = [];
    for (const entry of await readdir(dir, { withFileTypes: true })) if (entry.isDirectory()) events.push(entry.name);
  } catch (err) {
    return { name: 'schemas', status: 'fail', message: `cannot read schema directory ${shown}: ${(err as NodeJS.ErrnoException).code ?? oneLine(err)}`, fix: `make ${shown} a readable directory, or set schemas.dir / MIGRATE_SCHEMAS_DIR` };
  }
  const registry = await openSchemaRegistry(config.schemas);
  const problems: string[] = [];
  let versions = 0;
  let counted = 0;
  for (const event of events.sort()) {
    let numbers: number[];
    try {
      numbers = await registry.versions(event);
    } catch {
      continue; // not an event name: not a schema folder
    }
    if (numbers.length) counted += 1;
    for (const v of numbers) {
      try {
        await registry.get(event, v);
        versions += 1;
      } catch (err) {
        problems.push(err instanceof InvalidInputError ? err.problems.map((p) => formatProblem({ ...p, file: display(cwd, p.file) })).join('; ') : `${event} v${v}: ${oneLine(err)}`);
      }
    }
  }
  const writable = await can(dir, constants.W_OK);
  const found = `${counted} ${counted === 1 ? 'event' : 'events'}, ${versions} ${versions === 1 ? 'version' : 'versions'}`;
  if (problems.length) {
    return { name: 'schemas', status: 'fail', message: `schema directory ${shown}: ${found} parse; ${problems.length} do not: ${problems.join('; ')}`, fix: 'fix those files (migrate schema lint FILE shows every problem)' };
  }
  if (!writable) {
    return { name: 'schemas', status: 'warn', message: `schema directory ${shown}: ${found}, all parse; not writable`, fix: `schema.register cannot register new versions until ${shown} is writable` };
  }
  return { name: 'schemas', status: 'ok', message: `schema directory ${shown}: ${found}, all parse` };
}

/** A Confluent-compatible registry: reachable with the configured credentials; counts its subjects. */
async function registryCheck(config: Config): Promise<DoctorCheck> {
  const fix = 'start one (npm run registry:start prints its URL), or set MIGRATE_SCHEMA_REGISTRY_URL / schemas.registry.url to its Confluent-compatible API';
  let registry;
  try {
    registry = await openSchemaRegistry(config.schemas);
  } catch (err) {
    return { name: 'schemas', status: 'fail', message: oneLine(err), fix };
  }
  try {
    const subjects = (await registry.subjects?.()) ?? [];
    return { name: 'schemas', status: 'ok', message: `${registry.description}: ${subjects.length} ${subjects.length === 1 ? 'subject' : 'subjects'}` };
  } catch (err) {
    const credentials = /credentials/.test(oneLine(err));
    return { name: 'schemas', status: 'fail', message: `cannot list subjects: ${oneLine(err)}`, fix: credentials ? 'check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD' : fix };
  }
}

/** Run state: the file store's directory (or the one it will be created in) is writable. */
async function stateCheck(config: Config, cwd: string): Promise<DoctorCheck> {
  if (config.state.store !== 'file') {
    return { name: 'state', status: 'ok', message: `runs are kept on the cluster (topic ${config.state.topic}); the kafka checks cover reaching it` };
  }
  const dir = config.stateDir;
  const shown = display(cwd, dir);
  if (!existsSync(dir)) {
    let parent = path.dirname(dir);
    while (!existsSync(parent) && path.dirname(parent) !== parent) parent = path.dirname(parent);
    if (await can(parent, constants.W_OK)) return { name: 'state', status: 'ok', message: `state directory ${shown} will be created on the first run` };
    return { name: 'state', status: 'fail', message: `state directory ${shown} does not exist and cannot be created`, fix: `make ${display(cwd, parent)} writable, or pass --state-dir / set MIGRATE_STATE_DIR` };
  }
  if (!(await can(dir, constants.W_OK | constants.R_OK))) {
    return { name: 'state', status: 'fail', message: `state directory ${shown} is not readable and writable`, fix: `make ${shown} writable by this user, or pass --state-dir / set MIGRATE_STATE_DIR` };
  }
  const runs = (await readdir(dir)).filter((f) => f.endsWith('.json') && !f.endsWith('.tmp')).length;
  return { name: 'state', status: 'ok', message: `state directory ${shown}: ${runs} ${runs === 1 ? 'run' : 'runs'}, writable` };
}

/** `migrate doctor`: 0 when nothing failed (warnings allowed), 1 otherwise. */
export async function doctorCommand(o: DoctorCommandOptions): Promise<number> {
  const checks = await runDoctor(o);
  const ok = checks.every((c) => c.status !== 'fail');
  if (o.json) {
    o.out.write(JSON.stringify({ ok, checks }) + '\n');
    return ok ? 0 : 1;
  }
  const c = paint(o.color);
  const icon = { ok: c.green('✓'), warn: c.yellow('!'), fail: c.red('✗'), skipped: c.dim('-') };
  const width = Math.max(...checks.map((x) => x.name.length));
  for (const check of checks) {
    const message = check.status === 'skipped' ? c.dim(check.message) : check.message;
    o.out.write(`${icon[check.status]} ${check.name.padEnd(width)}  ${message}\n`);
    if (check.fix && check.status !== 'ok' && check.status !== 'skipped') o.out.write(`  ${''.padEnd(width)}  ${c.cyan('fix:')} ${check.fix}\n`);
  }
  const failed = checks.filter((x) => x.status === 'fail').length;
  const warned = checks.filter((x) => x.status === 'warn').length;
  o.out.write(ok ? c.green(`All checks passed${warned ? ` (${warned} ${warned === 1 ? 'warning' : 'warnings'})` : ''}\n`) : c.red(`${failed} ${failed === 1 ? 'check' : 'checks'} failed\n`));
  return ok ? 0 : 1;
}

async function can(file: string, mode: number): Promise<boolean> {
  try {
    await access(file, mode);
    return true;
  } catch {
    return false;
  }
}

function display(cwd: string, file: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith('..') ? rel : file;
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

/** Every message in the cause chain, to recognise what went wrong. */
function chain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, i = 0; e && i < 5; e = (e as { cause?: unknown }).cause, i++) {
    parts.push(e instanceof Error ? `${e.name} ${e.message} ${(e as { type?: string }).type ?? ''}` : String(e));
  }
  return parts.join(' | ');
}
