// JSON text: parsing with the position of a syntax error, and the position of every value, so a
// problem found in a parsed value (a meta-schema error at /properties/title/type, an event's
// /payload/title) can be reported as file:line:col. One scanner walks the text for both.

import { InvalidInputError } from '../errors.js';

/** A 1-based line and column. */
export interface JsonLocation {
  line: number;
  col: number;
}

/** Where each line of a text starts, to turn offsets into lines and columns. */
class LineStarts {
  private readonly starts = [0];
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }

  /** The 1-based line and column of a character offset. */
  at(offset: number): JsonLocation {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (this.starts[lo] as number) + 1 };
  }
}

/** The 1-based line and column of a character offset in a text. */
export function jsonLocation(text: string, offset: number): JsonLocation {
  return new LineStarts(text.slice(0, offset)).at(offset);
}

/** A JSON syntax error with the 1-based line and column where it is. */
export class JsonSyntaxError extends Error {
  readonly line: number;
  readonly col: number;
  readonly offset: number;
  constructor(message: string, text: string, offset: number) {
    super(message);
    this.name = 'JsonSyntaxError';
    this.offset = offset;
    ({ line: this.line, col: this.col } = jsonLocation(text, offset));
  }
}

/**
 * JSON.parse, but a syntax error says where it is (V8's messages often do not). The fast path
 * is JSON.parse itself; only a failure is scanned again to find the position.
 */
export function parseJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    scanJson(text);
    throw new JsonSyntaxError('invalid JSON', text, 0);
  }
  // JSON.parse takes any depth, but the code that walks a value (positions, schemas) recurses.
  scanJson(text);
  return value;
}

/**
 * Parses an input file's JSON text; a syntax error is bad input at `file:line:col`, saying
 * "<what> is not valid JSON: <why>" with an optional hint.
 */
export function parseJsonInput(file: string, text: string, what: string, hint?: string): unknown {
  try {
    return parseJson(text);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    throw new InvalidInputError([{ file, line: err.line, col: err.col, message: `${what} is not valid JSON: ${err.message}` }], hint);
  }
}

/** The position of every value in one JSON text, looked up by JSON Pointer ("" is the root). */
export class JsonPositions {
  private readonly lines: LineStarts;
  private constructor(private readonly offsets: Map<string, Offsets>, text: string) {
    this.lines = new LineStarts(text);
  }

  /** Scans JSON text (a JsonSyntaxError if it is not). Duplicate member names map to the last one, as JSON.parse keeps it. */
  static of(text: string): JsonPositions {
    const offsets = new Map<string, Offsets>();
    scanJson(text, (pointer, value, key) => offsets.set(pointer, key === undefined ? { value } : { value, key }));
    return new JsonPositions(offsets, text);
  }

  /** Where the value at `pointer` starts; the nearest ancestor that exists when it does not. */
  value(pointer: string): JsonLocation {
    return this.lines.at(this.nearest(pointer).value);
  }

  /** Where the member name of the value at `pointer` is (the value itself for array items and the root). */
  key(pointer: string): JsonLocation {
    const o = this.nearest(pointer);
    return this.lines.at(o.key ?? o.value);
  }

  /** Whether the text has a value at exactly this pointer. */
  has(pointer: string): boolean {
    return this.offsets.has(pointer);
  }

  /** Every pointer in the text, in document order. */
  pointers(): IterableIterator<string> {
    return this.offsets.keys();
  }

  private nearest(pointer: string): Offsets {
    let p = pointer;
    for (;;) {
      const o = this.offsets.get(p);
      if (o) return o;
      if (p === '') return { value: 0 };
      p = p.slice(0, p.lastIndexOf('/'));
    }
  }
}

/** Escapes one reference token of a JSON Pointer (RFC 6901). */
export function pointerToken(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The reference tokens of a JSON Pointer (RFC 6901), unescaped; undefined when it is not one ("" is the root). */
export function parsePointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/') || /~[^01]|~$/.test(pointer)) return undefined;
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The value a parsed JSON Pointer points at in a parsed JSON value; undefined where there is none. */
export function valueAt(value: unknown, tokens: readonly string[]): unknown {
  let v = value;
  for (const t of tokens) {
    if (Array.isArray(v)) {
      if (!/^(0|[1-9]\d*)$/.test(t)) return undefined;
      v = v[Number(t)];
    } else if (v !== null && typeof v === 'object' && Object.hasOwn(v, t)) {
      v = (v as Record<string, unknown>)[t];
    } else {
      return undefined;
    }
  }
  return v;
}

interface Offsets {
  value: number;
  /** Offset of the member name, for object members. */
  key?: number;
}

/** The deepest nesting a JSON text may have. */
const MAX_DEPTH = 512;

// eslint-disable-next-line no-control-regex
const plainChars = /[^"\\\x00-\x1f]*/y;
const escape = /["\\/bfnrt]|u[0-9a-fA-F]{4}/y;
const literal = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

/**
 * The one walk over JSON text: throws a JsonSyntaxError at the first syntax error or at the
 * first "{" or "[" nested deeper than MAX_DEPTH levels; with `onValue`, tells where each value
 * starts (and, for an object member, where its name is), by JSON Pointer, in document order.
 */
function scanJson(text: string, onValue?: (pointer: string, value: number, key: number | undefined) => void): void {
  let i = 0;
  const fail = (message: string, at = i): never => {
    throw new JsonSyntaxError(message, text, Math.min(at, text.length));
  };
  const ws = () => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
  };
  const found = () => (i >= text.length ? 'end of input' : `"${text[i]}"`);
  const string = (): void => {
    const start = i++;
    for (;;) {
      plainChars.lastIndex = i;
      plainChars.test(text);
      i = plainChars.lastIndex;
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c === 0x5c) {
        escape.lastIndex = i + 1;
        if (!escape.test(text)) fail('bad escape in string');
        i = escape.lastIndex;
        continue;
      }
      if (i >= text.length) fail('unterminated string', start);
      fail('control character in string');
    }
  };
  const value = (pointer: string, key: number | undefined, depth: number): void => {
    ws();
    onValue?.(pointer, i, key);
    const c = text.charCodeAt(i);
    if ((c === 0x7b || c === 0x5b) && depth >= MAX_DEPTH) fail(`nesting too deep (more than ${MAX_DEPTH} levels)`);
    if (c === 0x7b) {
      i++;
      ws();
      if (text.charCodeAt(i) === 0x7d) return void i++;
      for (;;) {
        ws();
        if (text.charCodeAt(i) !== 0x22) fail(text[i] === '}' ? 'trailing comma before "}"' : `expected a property name in double quotes, found ${found()}`);
        const keyAt = i;
        string();
        // Pointers are built only when someone asks for them.
        const child = onValue ? `${pointer}/${pointerToken(JSON.parse(text.slice(keyAt, i)) as string)}` : '';
        ws();
        if (text.charCodeAt(i) !== 0x3a) fail(`expected ":" after the property name, found ${found()}`);
        i++;
        value(child, keyAt, depth + 1);
        ws();
        if (text.charCodeAt(i) === 0x2c) {
          i++;
          continue;
        }
        if (text.charCodeAt(i) === 0x7d) return void i++;
        fail(`expected "," or "}" after a property value, found ${found()}`);
      }
    }
    if (c === 0x5b) {
      i++;
      ws();
      if (text.charCodeAt(i) === 0x5d) return void i++;
      for (let n = 0; ; n++) {
        ws();
        if (text.charCodeAt(i) === 0x5d) fail('trailing comma before "]"');
        value(onValue ? `${pointer}/${n}` : '', undefined, depth + 1);
        ws();
        if (text.charCodeAt(i) === 0x2c) {
          i++;
          continue;
        }
        if (text.charCodeAt(i) === 0x5d) return void i++;
        fail(`expected "," or "]" after an array element, found ${found()}`);
      }
    }
    if (c === 0x22) return string();
    literal.lastIndex = i;
    if (!literal.test(text)) fail(`unexpected ${found()}`);
    i = literal.lastIndex;
  };
  value('', undefined, 0);
  ws();
  if (i < text.length) fail(`unexpected ${found()} after the end of the JSON value`);
}
