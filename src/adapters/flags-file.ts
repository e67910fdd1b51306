import { InvalidInputError } from '../errors.js';
import { readTextIfExists, writeFileAtomic } from '../util/fs.js';
import { JsonPositions, parseJsonInput, pointerToken } from '../util/json.js';
import type { FlagProvider, FlagState } from './flags.js';

interface FlagdFlag {
  state?: string;
  variants?: Record<string, unknown>;
  defaultVariant?: string;
  [other: string]: unknown;
}

interface FlagdFile {
  $schema?: string;
  flags?: Record<string, FlagdFlag>;
  [other: string]: unknown;
}

const FLAGD_SCHEMA = 'https://flagd.dev/schema/v0/flags.json';

/**
 * The embedded default provider: a flagd-format JSON flag file, the same file flagd and the
 * demo services read. Writes are atomic (temp file, fsync, rename), so a reader never sees half.
 */
export class FileFlagProvider implements FlagProvider {
  readonly description: string;
  constructor(private readonly file: string) {
    this.description = `flag file ${file}`;
  }

  async get(key: string): Promise<FlagState | undefined> {
    const doc = await this.read();
    const flag = doc?.flags && Object.hasOwn(doc.flags, key) ? doc.flags[key] : undefined;
    return flag ? toState(key, flag) : undefined;
  }

  async set(key: string, on: boolean): Promise<{ previous: FlagState | undefined; changed: boolean }> {
    const doc: FlagdFile = (await this.read()) ?? { $schema: FLAGD_SCHEMA, flags: {} };
    const flags = (doc.flags ??= {});
    const current = Object.hasOwn(flags, key) ? flags[key] : undefined;
    const previous = current ? toState(key, current) : undefined;
    const flag: FlagdFlag = current ?? { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' };
    const variants = (flag.variants ??= {});
    let variant = Object.keys(variants).find((v) => variants[v] === on);
    if (!variant) {
      variant = on ? 'on' : 'off';
      variants[variant] = on;
    }
    const changed = flag.state !== 'ENABLED' || flag.defaultVariant !== variant;
    if (!changed && current) return { previous, changed: false };
    flag.state = 'ENABLED';
    flag.defaultVariant = variant;
    Object.defineProperty(flags, key, { value: flag, enumerable: true, writable: true, configurable: true });
    await writeFileAtomic(this.file, JSON.stringify(doc, null, 2) + '\n');
    return { previous, changed: true };
  }

  private async read(): Promise<FlagdFile | undefined> {
    const text = await readTextIfExists(this.file);
    if (text === undefined) return undefined;
    const doc = parseJsonInput(this.file, text, 'flag file');
    // A malformed file is bad input with its position, never a TypeError in flag.set.
    const at = (pointer: string, message: string) => new InvalidInputError([{ file: this.file, ...JsonPositions.of(text).value(pointer), message }]);
    if (!isObject(doc)) throw at('', 'flag file must be a JSON object with "flags"');
    const flags = (doc as FlagdFile).flags;
    if (flags !== undefined && !isObject(flags)) throw at('/flags', '"flags" must be an object of flag definitions');
    for (const [key, flag] of Object.entries(flags ?? {})) {
      const where = `/flags/${pointerToken(key)}`;
      if (!isObject(flag)) throw at(where, `flag "${key}" must be an object with state, variants and defaultVariant`);
      if (flag.state !== undefined && typeof flag.state !== 'string') throw at(`${where}/state`, `flag "${key}": "state" must be a string (ENABLED or DISABLED)`);
      if (flag.variants !== undefined && !isObject(flag.variants)) throw at(`${where}/variants`, `flag "${key}": "variants" must be an object of variant names to values`);
      if (flag.defaultVariant !== undefined && typeof flag.defaultVariant !== 'string') throw at(`${where}/defaultVariant`, `flag "${key}": "defaultVariant" must be a variant name`);
    }
    return doc as FlagdFile;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function toState(key: string, flag: FlagdFlag): FlagState {
  const variant = typeof flag.defaultVariant === 'string' ? flag.defaultVariant : undefined;
  const value = variant !== undefined && flag.variants && Object.hasOwn(flag.variants, variant) ? flag.variants[variant] : undefined;
  return { key, enabled: flag.state === 'ENABLED', value, ...(variant !== undefined ? { variant } : {}) };
}
