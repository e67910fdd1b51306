/** A JSON syntax error with the 1-based line and column where it is. */
export class JsonSyntaxError extends Error {
  readonly line: number;
  readonly col: number;
  readonly offset: number;
  constructor(message: string, text: string, offset: number) {
    super(message);
    this.name = 'JsonSyntaxError';
    this.offset = offset;
    const before = text.slice(0, offset);
    this.line = before.split('\n').length;
    this.col = offset - before.lastIndexOf('\n');
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
    throw locateJsonError(text);
  }
  // JSON.parse takes any depth, but the code that walks a value (positions, schemas) recurses.
  const tooDeep = openingBeyondDepth(text, MAX_DEPTH);
  if (tooDeep !== undefined) throw new JsonSyntaxError(`nesting too deep (more than ${MAX_DEPTH} levels)`, text, tooDeep);
  return value;
}

/** The deepest nesting a JSON text may have; locateJsonError stops at the same depth. */
const MAX_DEPTH = 512;

/** Offset of the first "{" or "[" nested deeper than `max` levels in valid JSON text, if any. */
function openingBeyondDepth(text: string, max: number): number | undefined {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // skip the string, escapes included
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return i;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return undefined;
}

/** Finds the first syntax error in text that JSON.parse rejected. */
export function locateJsonError(text: string): JsonSyntaxError {
  let i = 0;
  const fail = (message: string, at = i): never => {
    throw new JsonSyntaxError(message, text, Math.min(at, text.length));
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const describe = () => (i >= text.length ? 'end of input' : `"${text[i]}"`);
  const value = (depth: number): void => {
    if (depth > 512) fail('nesting too deep');
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail(text[i] === '}' ? 'trailing comma before "}"' : `expected a property name in double quotes, found ${describe()}`);
        string();
        ws();
        if (text[i] !== ':') fail(`expected ":" after the property name, found ${describe()}`);
        i++;
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') return void i++;
        fail(`expected "," or "}" after a property value, found ${describe()}`);
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        ws();
        if (text[i] === ']') fail('trailing comma before "]"');
        value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') return void i++;
        fail(`expected "," or "]" after an array element, found ${describe()}`);
      }
    }
    if (ch === '"') return string();
    const lit = /^(true|false|null|-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (lit) {
      i += lit[0].length;
      return;
    }
    fail(`unexpected ${describe()}`);
  };
  const string = () => {
    const start = i;
    i++;
    while (i < text.length) {
      const ch = text[i] as string;
      if (ch === '"') return void i++;
      if (ch === '\\') {
        if (!/^(["\\/bfnrt]|u[0-9a-fA-F]{4})/.test(text.slice(i + 1, i + 6))) fail('bad escape in string');
        i += text[i + 1] === 'u' ? 6 : 2;
        continue;
      }
      if (ch < ' ') fail('control character in string');
      i++;
    }
    fail('unterminated string', start);
  };
  try {
    value(0);
    ws();
    if (i < text.length) fail(`unexpected ${describe()} after the end of the JSON value`);
    return new JsonSyntaxError('invalid JSON', text, 0);
  } catch (err) {
    if (err instanceof JsonSyntaxError) return err;
    throw err;
  }
}
