/**
 * A Confluent-compatible schema registry (Confluent Schema Registry, Apicurio Registry's ccompat
 * API, Karapace): event schemas as JSON Schema under a subject, `<topic>-value` by default.
 *
 * Our version numbers are not the registry's. Our `version` N of an event is the N-th schema
 * registered under its subject, counting from 0 in the registry's own (ascending) version order:
 * the seed's ExerciseCompleted v0 is the first. The registry's number and its schema id are
 * reported beside ours.
 */
import type { SchemasConfig } from '../config.js';
import { TransientError, UsageError } from '../errors.js';
import { httpRequest, isRetryableStatus, type HttpResponse } from './http.js';
import type { RegisteredSchema, RegistryCompatibility, SchemaRegistry, SchemaScope } from './schemas.js';

/** How long one request may take, connection included. */
const REQUEST_TIMEOUT_MS = 10_000;
const MEDIA_TYPE = 'application/vnd.schemaregistry.v1+json';
/** Levels that already include BACKWARD: asked for BACKWARD, the step leaves them as they are. */
const AT_LEAST_BACKWARD = new Set(['BACKWARD', 'BACKWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE']);

/** Confluent's error codes for "not found", which say which thing is missing. */
const SUBJECT_NOT_FOUND = 40401;
const VERSION_NOT_FOUND = 40402;
const SCHEMA_NOT_FOUND = 40403;

/** Where to reach the registry and as whom. The password never appears in a message. */
export interface RegistryConnection {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
}

/** A registry's answer, its body parsed where it is JSON. */
interface Answer {
  status: number;
  body: unknown;
  /** The registry's own words: `message` of its error body, or the body's text. */
  message: string;
  /** Confluent's `error_code`, where given. */
  code: number | undefined;
}

/** The subject the schemas of an event live under: explicit, `<topic>-value`, or the event name. */
export function subjectOf(event: string, scope?: SchemaScope): string {
  if (scope?.subject) return scope.subject;
  if (scope?.topic) return `${scope.topic}-value`;
  return event;
}

/** Reads and registers JSON Schemas through the Confluent REST API. */
export class ConfluentSchemaRegistry implements SchemaRegistry {
  readonly description: string;
  /** The base URL, without a trailing slash; what messages show. */
  readonly url: string;
  private readonly authorization: string | undefined;

  constructor(c: RegistryConnection) {
    const parsed = new URL(c.url);
    if (parsed.username || parsed.password) {
      throw new UsageError('the schema registry URL holds credentials: remove them and set SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD instead');
    }
    this.url = c.url.replace(/\/+$/, '');
    this.description = `schema registry ${this.url}`;
    if (c.username && c.password === undefined) throw new UsageError('SCHEMA_REGISTRY_USERNAME is set but SCHEMA_REGISTRY_PASSWORD is not: set both for basic auth, or neither');
    if (!c.username && c.password !== undefined) throw new UsageError('SCHEMA_REGISTRY_PASSWORD is set but no user name: set SCHEMA_REGISTRY_USERNAME (or schemas.registry.username)');
    this.authorization = c.username ? `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}` : undefined;
  }

  /** From the `schemas` configuration (source registry). */
  static fromConfig(config: SchemasConfig): ConfluentSchemaRegistry {
    const r = config.registry;
    if (!r?.url) throw new UsageError('schemas.source is registry but no registry URL is set: set MIGRATE_SCHEMA_REGISTRY_URL or schemas.registry.url in migrate.config.yaml');
    return new ConfluentSchemaRegistry({ url: r.url, username: r.username, password: r.password });
  }

  async get(event: string, version: number, scope?: SchemaScope): Promise<RegisteredSchema | undefined> {
    const subject = subjectOf(event, scope);
    const registryVersion = (await this.registryVersions(subject))[version];
    if (registryVersion === undefined) return undefined;
    const a = await this.call('GET', `/subjects/${enc(subject)}/versions/${registryVersion}`);
    if (a.status === 404 && (a.code === SUBJECT_NOT_FOUND || a.code === VERSION_NOT_FOUND)) return undefined; // deleted in between
    if (a.status !== 200) throw this.unexpected(a, `reading ${event} v${version} (subject ${subject} version ${registryVersion})`);
    const body = a.body as { id?: unknown; schema?: unknown; schemaType?: unknown };
    const schema = this.parseSchema(body, `subject ${subject} version ${registryVersion}`);
    return this.registered(event, version, subject, registryVersion, schema, body.id);
  }

  async versions(event: string, scope?: SchemaScope): Promise<number[]> {
    return (await this.registryVersions(subjectOf(event, scope))).map((_, i) => i);
  }

  async register(event: string, version: number, schema: Record<string, unknown>, scope?: SchemaScope): Promise<RegisteredSchema> {
    const subject = subjectOf(event, scope);
    const existing = await this.preflight(event, version, subject, schema);
    if (existing) return existing;
    const a = await this.call('POST', `/subjects/${enc(subject)}/versions`, { schemaType: 'JSON', schema: JSON.stringify(schema) });
    if (a.status === 409) {
      throw new Error(`the registry at ${this.url} refused ${event} v${version} as incompatible with subject ${subject}: ${a.message} (nothing was registered)`);
    }
    if (a.status === 422) throw new Error(`the registry at ${this.url} refused ${event} v${version} as an invalid schema: ${a.message}`);
    if (a.status !== 200) throw this.unexpected(a, `registering ${event} v${version} under subject ${subject}`);
    const id = (a.body as { id?: unknown }).id;
    // The answer holds only the id; which version it became is a lookup away.
    const stored = await this.lookup(subject, schema);
    if (!stored) throw new Error(`the registry at ${this.url} registered ${event} v${version} under subject ${subject} (id ${String(id)}) but does not find it there`);
    const ours = (await this.registryVersions(subject)).indexOf(stored.version);
    if (ours !== version) {
      throw new Error(
        `registered ${event} under subject ${subject} of ${this.url} (registry version ${stored.version}, id ${stored.id}), but it is v${ours}, not v${version}: another schema was registered there meanwhile`,
      );
    }
    return this.registered(event, version, subject, stored.version, schema, stored.id);
  }

  async checkCompatibility(event: string, version: number, schema: Record<string, unknown>, level: 'BACKWARD' | 'NONE', scope?: SchemaScope): Promise<RegistryCompatibility> {
    const subject = subjectOf(event, scope);
    // A version that cannot be registered is said so before anything changes (the level).
    const existing = await this.preflight(event, version, subject, schema);
    if (existing) return { compatible: true, messages: [], level: await this.compatibilityLevel(subject) };
    const current = await this.compatibilityLevel(subject);
    let applied = current;
    const enough = level === 'BACKWARD' ? AT_LEAST_BACKWARD.has(current) : current === 'NONE';
    if (!enough) {
      const a = await this.call('PUT', `/config/${enc(subject)}`, { compatibility: level });
      if (a.status !== 200) throw this.unexpected(a, `setting compatibility ${level} on subject ${subject}`);
      applied = level;
    }
    if (applied === 'NONE' || (await this.registryVersions(subject)).length === 0) return { compatible: true, messages: [], level: applied };
    const a = await this.call('POST', `/compatibility/subjects/${enc(subject)}/versions/latest?verbose=true`, { schemaType: 'JSON', schema: JSON.stringify(schema) });
    if (a.status === 404) return { compatible: true, messages: [], level: applied }; // the subject went meanwhile: nothing to follow
    if (a.status === 422) throw new Error(`the registry at ${this.url} refused ${event}'s schema as invalid: ${a.message}`);
    if (a.status !== 200) throw this.unexpected(a, `checking compatibility against subject ${subject}`);
    const body = a.body as { is_compatible?: unknown; messages?: unknown };
    const messages = Array.isArray(body.messages) ? body.messages.map(String) : [];
    return { compatible: body.is_compatible === true, messages, level: applied };
  }

  async subjects(): Promise<string[]> {
    const a = await this.call('GET', '/subjects');
    if (a.status !== 200 || !Array.isArray(a.body)) throw this.unexpected(a, 'listing subjects');
    return a.body.map(String);
  }

  /** Why a version is not found, naming what is missing: the subject, or the version in it. */
  async whyMissing(event: string, version: number, scope?: SchemaScope): Promise<string> {
    const subject = subjectOf(event, scope);
    const held = await this.registryVersions(subject);
    if (held.length === 0) return `subject ${subject} does not exist in ${this.description}`;
    return `subject ${subject} in ${this.description} holds ${versionRange(held.length)}, not v${version}`;
  }

  /**
   * Whether `schema` may be registered as our `version` under the subject: the registration
   * already there when this exact schema is our `version` (registration is idempotent: the same
   * schema gets the same id and no new version); undefined when it is the subject's next
   * version; an error naming what the subject holds otherwise.
   */
  private async preflight(event: string, version: number, subject: string, schema: Record<string, unknown>): Promise<RegisteredSchema | undefined> {
    const held = await this.registryVersions(subject);
    const existing = await this.lookup(subject, schema);
    if (existing) {
      const ours = held.indexOf(existing.version);
      if (ours === version) return this.registered(event, version, subject, existing.version, schema, existing.id);
      throw new Error(
        `cannot register ${event} v${version} under subject ${subject} of ${this.url}: the same schema is already registered there as v${ours} ` +
          `(registry version ${existing.version}, id ${existing.id}); the registry keeps one version per distinct schema`,
      );
    }
    if (held.length !== version) {
      throw new Error(
        `cannot register ${event} v${version} under subject ${subject} of ${this.url}: the subject holds ${versionRange(held.length)}, so a new schema would become v${held.length}` +
          ` (register v${held.length} next, or check the step's topic/subject)`,
      );
    }
    return undefined;
  }

  /** The registry's version numbers under a subject, ascending; [] when the subject does not exist. */
  private async registryVersions(subject: string): Promise<number[]> {
    const a = await this.call('GET', `/subjects/${enc(subject)}/versions`);
    if (a.status === 404 && a.code === SUBJECT_NOT_FOUND) return [];
    if (a.status !== 200 || !Array.isArray(a.body)) throw this.unexpected(a, `listing the versions of subject ${subject}`);
    return a.body.map(Number).filter(Number.isInteger).sort((x, y) => x - y);
  }

  /** Where this exact schema is registered under the subject, if it is. */
  private async lookup(subject: string, schema: Record<string, unknown>): Promise<{ version: number; id: number } | undefined> {
    const a = await this.call('POST', `/subjects/${enc(subject)}`, { schemaType: 'JSON', schema: JSON.stringify(schema) });
    if (a.status === 404 && (a.code === SUBJECT_NOT_FOUND || a.code === SCHEMA_NOT_FOUND)) return undefined;
    if (a.status !== 200) throw this.unexpected(a, `looking the schema up under subject ${subject}`);
    const body = a.body as { version?: unknown; id?: unknown };
    return { version: Number(body.version), id: Number(body.id) };
  }

  /** The subject's compatibility level, or the registry's default when the subject has none. */
  private async compatibilityLevel(subject: string): Promise<string> {
    const a = await this.call('GET', `/config/${enc(subject)}?defaultToGlobal=true`);
    let body = a.body as { compatibilityLevel?: unknown; compatibility?: unknown };
    if (a.status === 404) {
      const global = await this.call('GET', '/config');
      if (global.status !== 200) throw this.unexpected(global, 'reading the global compatibility level');
      body = global.body as typeof body;
    } else if (a.status !== 200) {
      throw this.unexpected(a, `reading the compatibility level of subject ${subject}`);
    }
    return String(body?.compatibilityLevel ?? body?.compatibility ?? 'BACKWARD').toUpperCase();
  }

  private parseSchema(body: { schema?: unknown; schemaType?: unknown }, where: string): Record<string, unknown> {
    // Confluent leaves schemaType out for Avro, its default.
    const type = typeof body.schemaType === 'string' ? body.schemaType : 'AVRO';
    if (type !== 'JSON') throw new Error(`${where} in ${this.description} holds a schema of type ${type}, not JSON Schema: migrate validates events with JSON Schema`);
    let doc: unknown;
    try {
      doc = JSON.parse(String(body.schema));
    } catch (err) {
      throw new Error(`${where} in ${this.description} does not parse as JSON: ${(err as Error).message}`, { cause: err });
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${where} in ${this.description} is not a JSON object`);
    return doc as Record<string, unknown>;
  }

  private registered(event: string, version: number, subject: string, registryVersion: number, schema: Record<string, unknown>, id: unknown): RegisteredSchema {
    return {
      event,
      version,
      schema,
      location: `${this.url}/subjects/${enc(subject)}/versions/${registryVersion}`,
      ...(Number.isInteger(id) ? { id: id as number } : {}),
      subject,
      registryVersion,
    };
  }

  /** One request. Unreachable and 5xx are transient; 401/403 name the credentials; the rest is the caller's. */
  private async call(method: string, path: string, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = { accept: `${MEDIA_TYPE}, application/json` };
    if (body !== undefined) headers['content-type'] = MEDIA_TYPE;
    if (this.authorization) headers.authorization = this.authorization;
    let res: HttpResponse;
    try {
      res = await httpRequest({ url: `${this.url}${path}`, method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), timeoutMs: REQUEST_TIMEOUT_MS });
    } catch (err) {
      if (err instanceof TransientError) throw new TransientError(`schema registry ${this.url}: ${err.message}`, { cause: err });
      throw err;
    }
    const answer = parseAnswer(res);
    if (res.status === 401) {
      throw new Error(
        this.authorization
          ? `the registry at ${this.url} refused the credentials (SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD)`
          : `the registry at ${this.url} requires credentials: set SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD`,
      );
    }
    if (res.status === 403) {
      throw new Error(`the registry at ${this.url} refused ${method} ${path.split('?')[0]} to these credentials (SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD): ${answer.message}`);
    }
    if (isRetryableStatus(res.status)) throw new TransientError(`the registry at ${this.url} failed (${res.status}) on ${method} ${path.split('?')[0]}: ${answer.message}`);
    return answer;
  }

  private unexpected(a: Answer, doing: string): Error {
    if (a.status === 404) {
      const missing = a.code === SUBJECT_NOT_FOUND ? 'the subject does not exist' : a.code === VERSION_NOT_FOUND ? 'the version does not exist' : 'not found';
      return new Error(`the registry at ${this.url} answered 404 ${doing}: ${missing} (${a.message}); is ${this.url} the registry's Confluent-compatible API (Apicurio: .../apis/ccompat/v7)?`);
    }
    return new Error(`the registry at ${this.url} answered ${a.status} ${doing}: ${a.message}`);
  }
}

function parseAnswer(res: HttpResponse): Answer {
  let body: unknown = res.text;
  try {
    body = res.text ? JSON.parse(res.text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  const object = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as { message?: unknown; error_code?: unknown }) : undefined;
  const raw = typeof object?.message === 'string' ? object.message : typeof body === 'string' ? body : res.text;
  const code = typeof object?.error_code === 'number' ? object.error_code : undefined;
  return { status: res.status, body, message: registryWords(raw), code };
}

/** The registry's message on one line, without a Java exception's class name in front. */
function registryWords(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim().replace(/^(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error): /, '');
  return (line.length > 500 ? `${line.slice(0, 500)}...` : line) || '(no message)';
}

/** "no versions", "1 version (v0)", "3 versions (v0..v2)": our numbers for what a subject holds. */
function versionRange(count: number): string {
  if (count === 0) return 'no versions';
  return count === 1 ? '1 version (v0)' : `${count} versions (v0..v${count - 1})`;
}

function enc(subject: string): string {
  return encodeURIComponent(subject);
}
