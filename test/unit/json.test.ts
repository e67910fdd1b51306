import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonPositions, parseJson, JsonSyntaxError } from '../../src/util/json.js';

function where(text: string): string {
  try {
    parseJson(text);
  } catch (err) {
    const e = err as JsonSyntaxError;
    return `${e.line}:${e.col} ${e.message}`;
  }
  return 'parsed';
}

describe('parseJson', () => {
  it('parses valid JSON like JSON.parse', () => {
    expect(parseJson('{"a":[1,2,{"b":null}]}')).toEqual({ a: [1, 2, { b: null }] });
  });
  it('says where a syntax error is', () => {
    expect(where('{\n  "a": 1,\n  "b": }\n')).toBe('3:8 unexpected "}"');
    expect(where('{\n  "a": { "x": 1, },\n}')).toBe('2:18 trailing comma before "}"');
    expect(where('[1, 2,]')).toBe('1:7 trailing comma before "]"');
    expect(where('{"a": 1')).toBe('1:8 expected "," or "}" after a property value, found end of input');
    expect(where('')).toBe('1:1 unexpected end of input');
    expect(where('{"a": "x\u0001"}')).toBe('1:9 control character in string');
    expect(where('{} x')).toBe('1:4 unexpected "x" after the end of the JSON value');
  });
});

describe('the JSON scanner', () => {
  const parses = (text: string) => {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  };
  const bits = fc.constantFrom('{', '}', '[', ']', ',', ':', '"', '\\', '"k"', '\\u00e9', '\\u12', 'true', 'nul', '-', '0', '01', '1.5e3', '.', ' ', '\n', '\u0001', 'x');

  it('accepts exactly what JSON.parse accepts, and places every error inside the text', () => {
    fc.assert(
      fc.property(fc.array(bits, { maxLength: 24 }), (parts) => {
        const text = parts.join('');
        let error: JsonSyntaxError | undefined;
        try {
          parseJson(text);
        } catch (err) {
          error = err as JsonSyntaxError;
        }
        expect(error === undefined).toBe(parses(text));
        if (error) expect(error.offset).toBeLessThanOrEqual(text.length);
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses nesting deeper than 512 levels at the first bracket too deep, valid or not', () => {
    expect(where('['.repeat(512) + ']'.repeat(512))).toBe('parsed');
    expect(where('['.repeat(513) + ']'.repeat(513))).toBe('1:513 nesting too deep (more than 512 levels)');
    expect(where('{"a":'.repeat(600) + '1' + '}'.repeat(600))).toBe('1:2561 nesting too deep (more than 512 levels)');
    expect(where('['.repeat(600) + ']'.repeat(599))).toBe('1:513 nesting too deep (more than 512 levels)');
  });

  it('finds every value of valid JSON where JSON.stringify put it', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value, null, 2);
        const pos = JsonPositions.of(text);
        for (const pointer of pos.pointers()) {
          const { line, col } = pos.value(pointer);
          const rest = text.split('\n')[line - 1]?.slice(col - 1) ?? '';
          // the value of this pointer, stringified the same way, starts there
          const at = pointer.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
          const v = at.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], value);
          const first = (JSON.stringify(v, null, 2) ?? '').split('\n')[0] as string;
          expect(rest.startsWith(first)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
