import { UsageError } from '../errors.js';

const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Run names become file names and record keys: keep them plain. */
export function isValidRunName(name: string): boolean {
  return RUN_NAME.test(name) && !name.includes('..');
}

/** The name, or a usage error saying what run names may contain. */
export function assertRunName(name: string): string {
  if (!isValidRunName(name)) throw new UsageError(`"${name}" is not a valid run name`, 'run names use letters, digits, ".", "-" and "_" (at most 128)');
  return name;
}
