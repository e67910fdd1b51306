import type { SchemasConfig } from '../config.js';
import type { SchemaRegistry } from './schemas.js';

/** The schema registry the configuration names, loaded on first use. */
export async function openSchemaRegistry(config: SchemasConfig): Promise<SchemaRegistry> {
  if (config.source === 'registry') {
    const { ConfluentSchemaRegistry } = await import('./schemas-registry.js');
    return ConfluentSchemaRegistry.fromConfig(config);
  }
  const { DirSchemaRegistry } = await import('./schemas-dir.js');
  return new DirSchemaRegistry(config.dir);
}
