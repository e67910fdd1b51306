// migrate.config.yaml as written: its schema and its reading. Loaded only when a config file exists
// (src/config.ts imports it on demand), so a command run without one never loads YAML or zod for it.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { InvalidInputError, UsageError, type InputProblem, type SourcePos } from './errors.js';
import { isBrokerAddress, isHttpUrl } from './util/address.js';
import { YamlSource, zodProblems } from './util/yaml-source.js';

const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const httpUrl = z.string().refine((v) => isHttpUrl(v), 'expected an http:// or https:// URL');

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
        /** true, or { ca: path of a PEM file of the CA(s) that signed the brokers' certificates }. */
        ssl: z.union([z.boolean(), z.object({ ca: z.string().min(1) }).strict()], { error: 'expected true, false or { ca: <PEM file of the CA> }' }).optional(),
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
        /** file (default): a flagd-format flag file; unleash: an Unleash server's admin API. */
        provider: z.enum(['file', 'unleash']).optional(),
        /** flagd-format JSON flag file */
        file: z.string().optional(),
        unleash: z
          .object({
            url: httpUrl.optional(),
            project: z.string().min(1).optional(),
            environment: z.string().min(1).optional(),
          })
          .strict()
          .optional(),
        /** After flag.set, wait until an evaluation endpoint serves the new value. */
        propagation: z
          .object({
            /** An OFREP endpoint's base URL (flagd: http://host:8016). */
            ofrep: httpUrl.optional(),
            /** Unleash's client API at flags.unleash.url, with UNLEASH_CLIENT_TOKEN. */
            unleash: z.boolean().optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    schemas: z
      .object({
        /** dir (default): schemas/<Event>/<version>.json; registry: a Confluent-compatible schema registry. */
        source: z.enum(['dir', 'registry']).optional(),
        dir: z.string().optional(),
        registry: z
          .object({
            /** e.g. http://127.0.0.1:8080/apis/ccompat/v7 (Apicurio) or http://host:8081 (Confluent). */
            url: httpUrl.optional(),
            /** HTTP basic auth user; the password is read only from SCHEMA_REGISTRY_PASSWORD. */
            username: z.string().min(1).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    /** Local step plugins: .js/.mjs files, or folders of them, relative to the config file. */
    plugins: z.array(z.string().min(1, 'expected a path to a .js/.mjs file or a folder of them')).optional(),
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

/** One `plugins:` entry: a file or folder, and where the config names it (for messages). */
export interface PluginRef {
  /** Absolute path of a .js/.mjs file or a folder of them. */
  path: string;
  at: SourcePos;
}

/** Reads and validates a config file: what it sets, and its `plugins:` entries resolved against its folder. */
export async function readConfigFile(file: string, display: string): Promise<{ fromFile: ConfigFile; plugins: PluginRef[] }> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read config file ${display}: ${err.code ?? err.message}`);
  });
  const source = new YamlSource(display, text);
  const syntax = source.syntaxProblems();
  if (syntax.length) throw new InvalidInputError(syntax);
  const parsed = configSchema.safeParse(source.toJS() ?? {});
  if (!parsed.success) throw new InvalidInputError(zodProblems(source, parsed.error, []));
  return { fromFile: parsed.data, plugins: pluginRefs(source, parsed.data.plugins ?? [], path.dirname(file)) };
}

/** The `plugins:` entries, each resolved against the config file's folder; one that does not exist is bad input at its entry. */
function pluginRefs(source: YamlSource, entries: readonly string[], dir: string): PluginRef[] {
  const problems: InputProblem[] = [];
  const refs = entries.map((entry, i) => {
    const at = source.problemAt(['plugins', i], '');
    const ref = { path: path.resolve(dir, entry), at: { file: at.file, line: at.line, col: at.col } };
    if (!existsSync(ref.path)) problems.push({ ...ref.at, message: `plugins[${i}]: ${entry} does not exist (paths are relative to the config file)` });
    return ref;
  });
  if (problems.length) throw new InvalidInputError(problems);
  return refs;
}
