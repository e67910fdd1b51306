import { describe, expect, it } from 'vitest';
import { parseJson, JsonSyntaxError } from '../../src/util/json.js';

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
