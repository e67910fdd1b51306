/**
 * Where event schemas are registered. Steps see this interface; the embedded default is a
 * directory registry (schemas-dir.ts): schemas/<EventName>/<version>.json. A Confluent-compatible
 * registry (schemas-registry.ts) keeps them under a subject instead.
 */

/** One registered version of an event's schema. */
export interface RegisteredSchema {
  event: string;
  version: number;
  /** The schema document, parsed. */
  schema: Record<string, unknown>;
  /** Where it lives, for messages (a file path or a registry URL). */
  location: string;
  /** A registry's id, where the registry has one. */
  id?: number;
  /** The registry's subject and its own version number (1-based, not ours), where there is one. */
  subject?: string;
  registryVersion?: number;
}

/**
 * Where in a registry an event's schemas live. A Confluent-compatible registry files them under
 * a subject: `subject` when given, else `<topic>-value` (TopicNameStrategy), else the event name.
 * The directory registry ignores it.
 */
export interface SchemaScope {
  topic?: string | undefined;
  subject?: string | undefined;
}

/** The registry's own verdict on a schema against what it holds. */
export interface RegistryCompatibility {
  compatible: boolean;
  /** The registry's reasons, as it words them (may be empty: not every registry gives them). */
  messages: string[];
  /** The compatibility level the registry applied, e.g. BACKWARD. */
  level: string;
}

/** Reads and registers event schemas. */
export interface SchemaRegistry {
  readonly description: string;
  /** A version of an event's schema, or undefined. */
  get(event: string, version: number, scope?: SchemaScope): Promise<RegisteredSchema | undefined>;
  /** Every registered version of an event, oldest first. */
  versions(event: string, scope?: SchemaScope): Promise<number[]>;
  /** Registers a schema version (atomically); returns it as stored. */
  register(event: string, version: number, schema: Record<string, unknown>, scope?: SchemaScope): Promise<RegisteredSchema>;
  /**
   * A registry that judges compatibility itself: refuses a `version` it could not register (with
   * the reason), sets the subject's level to `level` (where it differs and is not already
   * stricter), then asks whether `schema` may follow what it holds. Absent where the registry
   * has no such rule (the directory).
   */
  checkCompatibility?(event: string, version: number, schema: Record<string, unknown>, level: 'BACKWARD' | 'NONE', scope?: SchemaScope): Promise<RegistryCompatibility>;
  /** Why get() found nothing, naming what is missing (the subject, or the version in it); absent for the directory. */
  whyMissing?(event: string, version: number, scope?: SchemaScope): Promise<string>;
  /** The subjects a registry holds (for doctor); absent for the directory. */
  subjects?(): Promise<string[]>;
}
