import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { KafkaConnection } from './adapters/kafka.js';
import { InvalidInputError, MigrateError, ExitCode, UsageError } from './errors.js';
import { YamlSource, zodProblems } from './playbook/source.js';

const configSchema = z
  .object({
    kafka: z
      .object({
        brokers: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
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
    state: z.object({ dir: z.string().optional() }).strict().optional(),
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
  })
  .strict();

/** migrate.config.yaml, as written. Passwords are never read from it: only from the environment. */
export type ConfigFile = z.infer<typeof configSchema>;

/** Settings after the file and the environment are merged. */
export interface Config {
  /** Undefined until brokers are configured; a step that needs Kafka then says how to set them. */
  kafka: KafkaConnection | undefined;
  stateDir: string;
  /** The flag provider: a flagd-format flag file by default. */
  flags: { provider: 'file'; file: string };
  /** The schema registry: a directory of schemas/<EventName>/<version>.json by default. */
  schemas: { source: 'dir'; dir: string };
  /** The config file read, if any. */
  file: string | undefined;
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
    const source = new YamlSource(display, await readFile(file, 'utf8'));
    const syntax = source.syntaxProblems();
    if (syntax.length) throw new InvalidInputError(syntax);
    const parsed = configSchema.safeParse(source.doc.toJS() ?? {});
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
    if (!/^[^\s:/]+:\d{1,5}$/.test(b)) throw new UsageError(`KAFKA_BROKERS: "${b}" is not host:port`);
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
  const flagProvider = env.MIGRATE_FLAGS_PROVIDER ?? fromFile.flags?.provider ?? 'file';
  if (flagProvider !== 'file') throw new UsageError(`MIGRATE_FLAGS_PROVIDER: "${flagProvider}" is not a known flag provider (known: file)`);
  const flags = { provider: flagProvider, file: path.resolve(o.cwd, env.MIGRATE_FLAGS_FILE ?? fromFile.flags?.file ?? 'flags.json') } as const;
  const schemaSource = env.MIGRATE_SCHEMAS_SOURCE ?? fromFile.schemas?.source ?? 'dir';
  if (schemaSource !== 'dir') throw new UsageError(`MIGRATE_SCHEMAS_SOURCE: "${schemaSource}" is not a known schema source (known: dir)`);
  const schemas = { source: schemaSource, dir: path.resolve(o.cwd, env.MIGRATE_SCHEMAS_DIR ?? fromFile.schemas?.dir ?? 'schemas') } as const;
  return { kafka, stateDir, flags, schemas, file: used };
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
