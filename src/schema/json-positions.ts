/**
 * Where each value of a JSON text is, by JSON Pointer, so a problem found in the parsed value
 * (a meta-schema error at /properties/title/type, an event's /payload/title) can be reported
 * as file:line:col of the text. Only for text that JSON.parse already accepted.
 */

/** A 1-based line and column. */
export interface JsonLocation {
  line: number;
  col: number;
}

interface Offsets {
  value: number;
  /** Offset of the member name, for object members. */
  key?: number;
}

/** The position of every value in one JSON text, looked up by JSON Pointer ("" is the root). */
export class JsonPositions {
  private readonly lineStarts: number[];
  private constructor(private readonly offsets: Map<string, Offsets>, text: string) {
    this.lineStarts = [0];
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.lineStarts.push(i + 1);
  }

  /** Scans valid JSON text. Duplicate member names map to the last one, as JSON.parse keeps it. */
  static of(text: string): JsonPositions {
    return new JsonPositions(scan(text), text);
  }

  /** Where the value at `pointer` starts; the nearest ancestor that exists when it does not. */
  value(pointer: string): JsonLocation {
    return this.at(this.nearest(pointer).value);
  }

  /** Where the member name of the value at `pointer` is (the value itself for array items and the root). */
  key(pointer: string): JsonLocation {
    const o = this.nearest(pointer);
    return this.at(o.key ?? o.value);
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

  private at(offset: number): JsonLocation {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (this.lineStarts[lo] as number) + 1 };
  }
}

/** Escapes one reference token of a JSON Pointer (RFC 6901). */
export function pointerToken(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

function scan(text: string): Map<string, Offsets> {
  const out = new Map<string, Offsets>();
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const string = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (pointer: string, key: number | undefined): void => {
    ws();
    out.set(pointer, key === undefined ? { value: i } : { value: i, key });
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        const keyAt = i;
        const name = string();
        ws();
        i++; // ':'
        value(`${pointer}/${pointerToken(name)}`, keyAt);
        ws();
        if (text[i++] === '}') return;
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (let n = 0; ; n++) {
        value(`${pointer}/${n}`, undefined);
        ws();
        if (text[i++] === ']') return;
      }
    }
    if (ch === '"') return void string();
    while (i < text.length && !' \t\r\n,]}'.includes(text[i] as string)) i++;
  };
  value('', undefined);
  return out;
}
