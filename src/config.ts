import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigFile, PluginRef } from './config-file.js';
import { UsageError } from './errors.js';
import { isBrokerAddress, isHttpUrl } from './util/address.js';
import { parseDuration } from './util/time.js';

export type { ConfigFile, PluginRef } from './config-file.js';

/** How to reach a cluster. The password lives only in memory. */
export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  /** true: TLS trusting the system CAs; { ca }: the path of a PEM file of the CAs to trust instead (read at connect). */
  ssl?: boolean | { ca?: string; rejectUnauthorized?: boolean };
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** Settings after the file and the environment are merged. */
export interface Config {
  /** Undefined until brokers are configured; a step that needs Kafka then says how to set them. */
  kafka: KafkaConnection | undefined;
  stateDir: string;
  /** Where run state lives: the file store in stateDir (default), or the shared Kafka store. */
  state: StateConfig;
  /** The flag provider: a flagd-format flag file by default. */
  flags: FlagsConfig;
  /** The schema registry: a directory of schemas/<EventName>/<version>.json by default. */
  schemas: SchemasConfig;
  /** Run notifications: a webhook URL (env MIGRATE_NOTIFY_WEBHOOK), if any. */
  notify?: { webhook: string };
  /** Local step plugins as `plugins:` lists them, resolved against the config file's folder. */
  plugins: PluginRef[];
  /** The config file read, if any. */
  file: string | undefined;
}


/**
 * The `flags` section after the environment. Tokens come only from the environment and live only
 * in memory: nothing that writes state, logs or --json ever sees this object.
 */
export interface FlagsConfig {
  provider: 'file' | 'unleash';
  /** The flag file (provider file). */
  file: string;
  /** provider unleash: env UNLEASH_URL, UNLEASH_PROJECT (default "default"), UNLEASH_ENVIRONMENT (default "development"), UNLEASH_API_TOKEN. */
  unleash?: { url: string | undefined; project: string; environment: string; token: string | undefined };
  /** Where flag.set waits for its new value to be served, if anywhere. */
  propagation?:
    | { via: 'ofrep'; url: string; token: string | undefined }
    | { via: 'unleash'; url: string | undefined; token: string | undefined };
}

/** The `schemas` section after the environment. The registry password comes only from the environment. */
export interface SchemasConfig {
  source: 'dir' | 'registry';
  /** The schema directory (source dir). */
  dir: string;
  /** source registry: env MIGRATE_SCHEMA_REGISTRY_URL, SCHEMA_REGISTRY_USERNAME, SCHEMA_REGISTRY_PASSWORD. */
  registry?: { url: string | undefined; username: string | undefined; password: string | undefined };
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
  let plugins: PluginRef[] = [];
  if (existsSync(file)) {
    // YAML and zod load only when there is a file to read: without one, `status` starts as fast as Node.
    const { readConfigFile } = await import('./config-file.js');
    ({ fromFile, plugins } = await readConfigFile(file, path.relative(o.cwd, file) || file));
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
    const sslFile = fromFile.kafka?.ssl;
    const ssl = env.KAFKA_SSL !== undefined ? parseBool('KAFKA_SSL', env.KAFKA_SSL) : sslFile !== undefined && sslFile !== false;
    const ca = env.KAFKA_SSL_CA || (typeof sslFile === 'object' ? sslFile.ca : undefined);
    if (ca && (ssl || env.KAFKA_SSL === undefined)) kafka.ssl = { ca: await caFile(o.cwd, ca, env.KAFKA_SSL_CA ? 'KAFKA_SSL_CA' : 'kafka.ssl.ca') };
    else if (ssl) kafka.ssl = true;
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
  const flags = flagsConfig(env, fromFile.flags, o.cwd);
  const schemas = schemasConfig(env, fromFile.schemas, o.cwd);
  const webhook = env.MIGRATE_NOTIFY_WEBHOOK || fromFile.notify?.webhook;
  if (webhook && !isHttpUrl(webhook)) throw new UsageError('MIGRATE_NOTIFY_WEBHOOK: not an http:// or https:// URL');
  return { kafka, stateDir, state, flags, schemas, ...(webhook ? { notify: { webhook } } : {}), plugins, file: used };
}

/** The CA file's absolute path, once it is known to hold a PEM certificate (it is read again at connect). */
async function caFile(cwd: string, value: string, key: string): Promise<string> {
  const file = path.resolve(cwd, value);
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`${key}: cannot read the CA file ${value}: ${err.code ?? err.message}`, 'point it at the PEM file of the CA that signed the brokers\' certificates');
  });
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`${key}: ${value} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return file;
}

function flagsConfig(env: Record<string, string | undefined>, file: ConfigFile['flags'], cwd: string): FlagsConfig {
  const provider = env.MIGRATE_FLAGS_PROVIDER || file?.provider || 'file';
  if (provider !== 'file' && provider !== 'unleash') throw new UsageError(`MIGRATE_FLAGS_PROVIDER: "${provider}" is not a known flag provider (known: file, unleash)`);
  const flags: FlagsConfig = { provider, file: path.resolve(cwd, env.MIGRATE_FLAGS_FILE ?? file?.file ?? 'flags.json') };
  const unleashUrl = env.UNLEASH_URL || file?.unleash?.url;
  if (unleashUrl !== undefined && !isHttpUrl(unleashUrl)) throw new UsageError('UNLEASH_URL: not an http:// or https:// URL');
  if (provider === 'unleash' || file?.unleash || file?.propagation?.unleash) {
    flags.unleash = {
      url: unleashUrl,
      project: env.UNLEASH_PROJECT || file?.unleash?.project || 'default',
      environment: env.UNLEASH_ENVIRONMENT || file?.unleash?.environment || 'development',
      token: env.UNLEASH_API_TOKEN || undefined,
    };
  }
  const ofrep = env.MIGRATE_FLAGS_OFREP_URL || file?.propagation?.ofrep;
  if (ofrep !== undefined && !isHttpUrl(ofrep)) throw new UsageError('MIGRATE_FLAGS_OFREP_URL: not an http:// or https:// URL');
  if (ofrep) flags.propagation = { via: 'ofrep', url: ofrep, token: env.OFREP_TOKEN || undefined };
  else if (file?.propagation?.unleash) flags.propagation = { via: 'unleash', url: unleashUrl, token: env.UNLEASH_CLIENT_TOKEN || undefined };
  return flags;
}

function schemasConfig(env: Record<string, string | undefined>, file: ConfigFile['schemas'], cwd: string): SchemasConfig {
  const source = env.MIGRATE_SCHEMAS_SOURCE || file?.source || 'dir';
  if (source !== 'dir' && source !== 'registry') throw new UsageError(`MIGRATE_SCHEMAS_SOURCE: "${source}" is not a known schema source (known: dir, registry)`);
  const schemas: SchemasConfig = { source, dir: path.resolve(cwd, env.MIGRATE_SCHEMAS_DIR ?? file?.dir ?? 'schemas') };
  const url = env.MIGRATE_SCHEMA_REGISTRY_URL || file?.registry?.url;
  if (url !== undefined && !isHttpUrl(url)) throw new UsageError('MIGRATE_SCHEMA_REGISTRY_URL: not an http:// or https:// URL');
  if (source === 'registry' || file?.registry) {
    schemas.registry = { url, username: env.SCHEMA_REGISTRY_USERNAME || file?.registry?.username, password: env.SCHEMA_REGISTRY_PASSWORD || undefined };
  }
  return schemas;
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
