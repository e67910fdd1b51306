import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { KafkaConnection } from './adapters/kafka.js';
import { InvalidInputError, MigrateError, ExitCode, UsageError } from './errors.js';
import { YamlSource, zodProblems } from './playbook/source.js';
import { parseDuration } from './util/time.js';

const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;

const configSchema = z
  .object({
    kafka: z
      .object({
        brokers: z
          .union([
            z.string().refine((v) => v.split(',').map((b) => b.trim()).filter(Boolean).every(isBrokerAddress), 'expected host:port[,host:port...] with a port from 1 to 65535'),
            z.array(z.string().refine((b) => isBrokerAddress(b.trim()), 'expected host:port with a port from 1 to 65535')).min(1),
          ])
          .optional(),
        clientId: z.string().optional(),
        ssl: z.boolean().optional(),
        sasl: z
          .object({
            mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
            username: z.string(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    state: z
      .object({
        /** file (default): .migrate/ in the working directory; kafka: the shared store on the cluster. */
        store: z.enum(['file', 'kafka']).optional(),
        dir: z.string().optional(),
        /** Kafka store: the compacted topic of run states, and the topic whose partition is each run's lock. */
        topic: z.string().regex(KAFKA_TOPIC, 'expected a Kafka topic name (letters, digits, ".", "_", "-")').optional(),
        lockTopic: z.string().regex(KAFKA_TOPIC, 'expected a Kafka topic name (letters, digits, ".", "_", "-")').optional(),
        /** Kafka store: how long a dead holder keeps a run locked, e.g. 10s (Kafka accepts 6s and up by default). */
        sessionTimeout: z.union([z.string(), z.number()]).optional(),
      })
      .strict()
      .optional(),
    flags: z
      .object({
        provider: z.enum(['file']).optional(),
        /** flagd-format JSON flag file */
        file: z.string().optional(),
      })
      .strict()
      .optional(),
    schemas: z
      .object({
        source: z.enum(['dir']).optional(),
        dir: z.string().optional(),
      })
      .strict()
      .optional(),
    notify: z
      .object({
        /** Receives a JSON POST when a run pauses at a gate, fails or completes. */
        webhook: z.string().refine(isHttpUrl, 'expected an http:// or https:// URL').optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** migrate.config.yaml, as written. Passwords are never read from it: only from the environment. */
export type ConfigFile = z.infer<typeof configSchema>;

/** Settings after the file and the environment are merged. */
export interface Config {
  /** Undefined until brokers are configured; a step that needs Kafka then says how to set them. */
  kafka: KafkaConnection | undefined;
  stateDir: string;
  /** Where run state lives: the file store in stateDir (default), or the shared Kafka store. */
  state: StateConfig;
  /** The flag provider: a flagd-format flag file by default. */
  flags: { provider: 'file'; file: string };
  /** The schema registry: a directory of schemas/<EventName>/<version>.json by default. */
  schemas: { source: 'dir'; dir: string };
  /** Run notifications: a webhook URL (env MIGRATE_NOTIFY_WEBHOOK), if any. */
  notify?: { webhook: string };
  /** The config file read, if any. */
  file: string | undefined;
}

/** The `state` section after defaults: which RunStore, and the Kafka store's topics and session timeout. */
export interface StateConfig {
  store: 'file' | 'kafka';
  topic: string;
  lockTopic: string;
  sessionTimeoutMs: number;
}

export interface ConfigOptions {
  cwd: string;
  /** --config */
  configPath?: string | undefined;
  /** --state-dir */
  stateDir?: string | undefined;
  env?: Record<string, string | undefined>;
}

/** Reads migrate.config.yaml (or --config) and applies the environment over it. */
export async function loadConfig(o: ConfigOptions): Promise<Config> {
  const env = o.env ?? process.env;
  const file = o.configPath ? path.resolve(o.cwd, o.configPath) : path.join(o.cwd, 'migrate.config.yaml');
  let fromFile: ConfigFile = {};
  let used: string | undefined;
  if (existsSync(file)) {
    const display = path.relative(o.cwd, file) || file;
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read config file ${display}: ${err.code ?? err.message}`);
    });
    const source = new YamlSource(display, text);
    const syntax = source.syntaxProblems();
    if (syntax.length) throw new InvalidInputError(syntax);
    const parsed = configSchema.safeParse(source.toJS() ?? {});
    if (!parsed.success) throw new InvalidInputError(zodProblems(source, parsed.error, []));
    fromFile = parsed.data;
    used = file;
  } else if (o.configPath) {
    throw new UsageError(`config file ${o.configPath} does not exist`);
  }

  const brokersText = env.KAFKA_BROKERS ?? fromFile.kafka?.brokers;
  const brokers = (Array.isArray(brokersText) ? brokersText : (brokersText ?? '').split(','))
    .map((b) => b.trim())
    .filter(Boolean);
  for (const b of brokers) {
    if (!isBrokerAddress(b)) throw new UsageError(`KAFKA_BROKERS: "${b}" is not host:port (with a port from 1 to 65535)`);
  }
  let kafka: KafkaConnection | undefined;
  if (brokers.length) {
    kafka = { brokers, clientId: fromFile.kafka?.clientId ?? 'migrate' };
    const ssl = env.KAFKA_SSL !== undefined ? parseBool('KAFKA_SSL', env.KAFKA_SSL) : fromFile.kafka?.ssl;
    if (ssl) kafka.ssl = true;
    const mechanism = env.KAFKA_SASL_MECHANISM ?? fromFile.kafka?.sasl?.mechanism;
    if (mechanism) {
      const m = mechanism.toLowerCase();
      if (m !== 'plain' && m !== 'scram-sha-256' && m !== 'scram-sha-512') {
        throw new UsageError(`KAFKA_SASL_MECHANISM: "${mechanism}" is not one of plain, scram-sha-256, scram-sha-512`);
      }
      const username = env.KAFKA_SASL_USERNAME ?? fromFile.kafka?.sasl?.username;
      const password = env.KAFKA_SASL_PASSWORD;
      if (!username || password === undefined) {
        throw new UsageError('SASL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD (the password is read only from the environment)');
      }
      kafka.sasl = { mechanism: m, username, password };
    }
  }
  const stateDir = path.resolve(o.cwd, o.stateDir ?? env.MIGRATE_STATE_DIR ?? fromFile.state?.dir ?? '.migrate');
  const state = stateConfig(env.MIGRATE_STATE_STORE, fromFile.state);
  const flagProvider = env.MIGRATE_FLAGS_PROVIDER ?? fromFile.flags?.provider ?? 'file';
  if (flagProvider !== 'file') throw new UsageError(`MIGRATE_FLAGS_PROVIDER: "${flagProvider}" is not a known flag provider (known: file)`);
  const flags = { provider: flagProvider, file: path.resolve(o.cwd, env.MIGRATE_FLAGS_FILE ?? fromFile.flags?.file ?? 'flags.json') } as const;
  const schemaSource = env.MIGRATE_SCHEMAS_SOURCE ?? fromFile.schemas?.source ?? 'dir';
  if (schemaSource !== 'dir') throw new UsageError(`MIGRATE_SCHEMAS_SOURCE: "${schemaSource}" is not a known schema source (known: dir)`);
  const schemas = { source: schemaSource, dir: path.resolve(o.cwd, env.MIGRATE_SCHEMAS_DIR ?? fromFile.schemas?.dir ?? 'schemas') } as const;
  const webhook = env.MIGRATE_NOTIFY_WEBHOOK || fromFile.notify?.webhook;
  if (webhook && !isHttpUrl(webhook)) throw new UsageError('MIGRATE_NOTIFY_WEBHOOK: not an http:// or https:// URL');
  return { kafka, stateDir, state, flags, schemas, ...(webhook ? { notify: { webhook } } : {}), file: used };
}

/** host:port, with a port Kafka can listen on. */
function isBrokerAddress(value: string): boolean {
  const m = /^[^\s:/]+:(\d{1,5})$/.exec(value);
  return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 65535;
}

function isHttpUrl(value: string): boolean {
  return URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
}

function stateConfig(storeEnv: string | undefined, file: ConfigFile['state']): StateConfig {
  const store = storeEnv || file?.store || 'file';
  if (store !== 'file' && store !== 'kafka') throw new UsageError(`MIGRATE_STATE_STORE: "${store}" is not a known run store (known: file, kafka)`);
  const timeout = file?.sessionTimeout ?? '10s';
  const sessionTimeoutMs = parseDuration(timeout);
  if (sessionTimeoutMs === undefined || sessionTimeoutMs < 1000) {
    throw new UsageError(`state.sessionTimeout: "${timeout}" is not a duration of 1s or more`, 'e.g. sessionTimeout: 10s (Kafka accepts 6s to 30m by default)');
  }
  return { store, topic: file?.topic ?? '__migrate_runs', lockTopic: file?.lockTopic ?? '__migrate_locks', sessionTimeoutMs };
}

function parseBool(key: string, value: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off|)$/i.test(value)) return false;
  throw new UsageError(`${key}: "${value}" is not true or false`);
}

/** Thrown when a step needs Kafka and no brokers are configured. */
export class KafkaNotConfiguredError extends MigrateError {
  constructor() {
    super('no Kafka brokers configured', ExitCode.badInput, {
      hint: 'set KAFKA_BROKERS=host:port (npm run kafka:start prints one) or kafka.brokers in migrate.config.yaml',
    });
  }
}
