import { readFile } from 'node:fs/promises';
import { InvalidInputError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { parseJson, type JsonSyntaxError } from '../util/json.js';
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
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let doc: unknown;
    try {
      doc = parseJson(text);
    } catch (err) {
      const e = err as JsonSyntaxError;
      throw new InvalidInputError([{ file: this.file, line: e.line, col: e.col, message: `flag file is not valid JSON: ${e.message}` }]);
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new InvalidInputError([{ file: this.file, message: 'flag file must be a JSON object with "flags"' }]);
    }
    const flags = (doc as FlagdFile).flags;
    if (flags !== undefined && (flags === null || typeof flags !== 'object' || Array.isArray(flags))) {
      throw new InvalidInputError([{ file: this.file, message: '"flags" must be an object of flag definitions' }]);
    }
    return doc as FlagdFile;
  }
}

function toState(key: string, flag: FlagdFlag): FlagState {
  const variant = typeof flag.defaultVariant === 'string' ? flag.defaultVariant : undefined;
  const value = variant !== undefined && flag.variants && Object.hasOwn(flag.variants, variant) ? flag.variants[variant] : undefined;
  return { key, enabled: flag.state === 'ENABLED', value, ...(variant !== undefined ? { variant } : {}) };
}
