import type { Writable } from 'node:stream';
import { UsageError } from '../errors.js';

/** Options shared by the `migrate schema` commands. */
export interface SchemaCommandOptions {
  cwd: string;
  json: boolean;
  out: Writable;
}

// Placeholder bodies, replaced by the schema work in progress: they fail loudly, never pass.
export async function schemaLintCommand(_files: string[], _o: SchemaCommandOptions): Promise<number> {
  throw new UsageError('migrate schema lint is not implemented yet');
}
export async function schemaValidateCommand(_schema: string, _events: string[], _o: SchemaCommandOptions): Promise<number> {
  throw new UsageError('migrate schema validate is not implemented yet');
}
export async function schemaCompatCommand(_old: string, _new: string, _o: SchemaCommandOptions): Promise<number> {
  throw new UsageError('migrate schema compat is not implemented yet');
}
