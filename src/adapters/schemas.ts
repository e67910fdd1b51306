/**
 * Where event schemas are registered. Steps see this interface; the embedded default is a
 * directory registry (schemas-dir.ts): schemas/<EventName>/<version>.json.
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
}

/** Reads and registers event schemas. */
export interface SchemaRegistry {
  readonly description: string;
  /** A version of an event's schema, or undefined. */
  get(event: string, version: number): Promise<RegisteredSchema | undefined>;
  /** Every registered version of an event, oldest first. */
  versions(event: string): Promise<number[]>;
  /** Registers a schema version (atomically); returns it as stored. */
  register(event: string, version: number, schema: Record<string, unknown>): Promise<RegisteredSchema>;
}
