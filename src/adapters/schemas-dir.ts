import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { InvalidInputError } from '../errors.js';
import { readTextIfExists, writeFileAtomic } from '../util/fs.js';
import { parseJsonInput } from '../util/json.js';
import type { RegisteredSchema, SchemaRegistry } from './schemas.js';

const EVENT_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,127}$/;

/** The embedded default registry: schemas/<EventName>/<version>.json. */
export class DirSchemaRegistry implements SchemaRegistry {
  readonly description: string;
  constructor(private readonly dir: string) {
    this.description = `schema directory ${dir}`;
  }

  fileOf(event: string, version: number): string {
    if (!EVENT_NAME.test(event)) throw new InvalidInputError([{ file: this.dir, message: `"${event}" is not an event name` }]);
    return path.join(this.dir, event, `${version}.json`);
  }

  async get(event: string, version: number): Promise<RegisteredSchema | undefined> {
    const file = this.fileOf(event, version);
    const text = await readTextIfExists(file);
    if (text === undefined) return undefined;
    return { event, version, schema: readSchemaText(file, text), location: file };
  }

  async versions(event: string): Promise<number[]> {
    const dir = path.dirname(this.fileOf(event, 0));
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return names
      .map((n) => /^(\d+)\.json$/.exec(n)?.[1])
      .filter((v): v is string => v !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  async register(event: string, version: number, schema: Record<string, unknown>): Promise<RegisteredSchema> {
    const file = this.fileOf(event, version);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(schema, null, 2) + '\n');
    return { event, version, schema, location: file };
  }
}

/** Parses a schema file: JSON with positions for syntax errors, and an object at the top. */
export function readSchemaText(file: string, text: string): Record<string, unknown> {
  const doc = parseJsonInput(file, text, 'schema');
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new InvalidInputError([{ file, line: 1, col: 1, message: 'a JSON Schema must be a JSON object' }]);
  }
  return doc as Record<string, unknown>;
}
