import type { Config } from '../config.js';
import type { SchemaRegistry } from './schemas.js';

/** The schema registry the configuration names, loaded on first use. */
export async function openSchemaRegistry(config: Config['schemas']): Promise<SchemaRegistry> {
  const { DirSchemaRegistry } = await import('./schemas-dir.js');
  return new DirSchemaRegistry(config.dir);
}
