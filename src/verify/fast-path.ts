/**
 * kafka.verify's fast path: a JSON scanner specialised from the compiled schema, which reads an
 * event's bytes once, checks the JSON syntax and the keywords the schema uses, and takes out the
 * event_id and the operationKey values, without building the event (JSON.parse and ajv cost most
 * of a million-event verify). It answers "valid" only when JSON.parse + ajv would; anything it
 * cannot decide (a keyword it does not know, an escaped key, a duplicate key it names, a failure,
 * a value too deep) answers "undecided", and checkEvents then runs JSON.parse + ajv on that event,
 * so every message stays exactly what the full check says. Only schemas made of the keywords
 * below get a fast path at all: type, properties, required, enum of plain values, boolean
 * additionalProperties, local $refs, and annotations.
 *
 * MIGRATE_VERIFY_FAST=0 turns it off (every event through JSON.parse + ajv), for a comparison.
 */

/** The fast check of one value: true when it is valid and its extracts are read (see FastCheck); false when undecided. */
export type FastScan = (bytes: Buffer) => boolean;

/** A compiled fast path, with where the last valid event's extracts are. */
export interface FastCheck {
  scan: FastScan;
  /** The event_id of the last valid event when it is a string, else undefined. */
  eventId(bytes: Buffer): string | undefined;
  /** operationText() of the last valid event's operationKey values (each is present: otherwise scan() is undecided). */
  operationText(bytes: Buffer): string;
  /**
   * hashId() of the last valid event's event_id written to out[at], out[at + 1], straight from
   * its bytes; false (nothing written) unless it is a string of ASCII characters without escapes.
   */
  hashEventId(bytes: Buffer, out: Uint32Array, at: number): boolean;
  /** hashId() of operationText() the same way; false unless every value is such a string. */
  hashOperation(bytes: Buffer, out: Uint32Array, at: number): boolean;
}

// Type bits: which JSON types a node allows.
const T_STRING = 1;
const T_NUMBER = 2;
const T_INTEGER = 4;
const T_BOOLEAN = 8;
const T_NULL = 16;
const T_OBJECT = 32;
const T_ARRAY = 64;
const T_ANY = 127;

/** One place in the event: what the schema asks of the value there, and the extract it feeds. */
interface Node {
  types: number;
  /** Allowed plain values (ajv's enum compares with deep equality; plain values compare with ===). */
  enumValues?: (string | number | boolean | null)[];
  /** The UTF-8 bytes of each string in enumValues. */
  enumBytes?: Uint8Array[];
  /** Named keys of an object: the schema's properties, and the keys an extract passes through. */
  keys?: { name: Uint8Array; node: Node }[];
  /** Bit i: keys[i] is required. */
  required: number;
  /** additionalProperties: false. */
  closed: boolean;
  /** Index of the extract this value is (0: event_id, 1..: operationKey values), or -1. */
  slot: number;
  /** Set once built: the node asks nothing of its value, which is only skipped. */
  plain?: boolean;
}

const ANNOTATIONS = new Set(['$schema', '$id', 'id', 'title', 'description', '$comment', 'examples', 'default', 'definitions', '$defs', 'readOnly', 'writeOnly', 'deprecated']);
const TYPE_BITS: Record<string, number> = { string: T_STRING, number: T_NUMBER | T_INTEGER, integer: T_INTEGER, boolean: T_BOOLEAN, null: T_NULL, object: T_OBJECT, array: T_ARRAY };
/** Named keys per object at most (a bit each in one 32-bit mask). */
const MAX_KEYS = 30;
/** Nesting the scanner follows before it answers "undecided". */
const MAX_DEPTH = 64;

class Unsupported extends Error {}

function enc(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Builds the node of `schema` (followed through local $refs); throws Unsupported for anything the scanner cannot decide. */
function nodeOf(schema: unknown, root: Record<string, unknown>, depth: number): Node {
  if (depth > 32) throw new Unsupported('too deep (a recursive $ref?)');
  if (schema === true || (typeof schema === 'object' && schema !== null && Object.keys(schema).every((k) => ANNOTATIONS.has(k)))) {
    return { types: T_ANY, required: 0, closed: false, slot: -1 };
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw new Unsupported('not an object schema');
  const s = schema as Record<string, unknown>;
  // An $id below the root moves the base its $refs resolve against (the scanner resolves against the root only); a $schema there may change the dialect.
  if (depth > 0 && ['$id', 'id', '$schema'].some((k) => Object.hasOwn(s, k))) throw new Unsupported('an $id or $schema below the root');
  if (typeof s.$ref === 'string') {
    if (Object.keys(s).some((k) => k !== '$ref' && !ANNOTATIONS.has(k))) throw new Unsupported('$ref beside other keywords');
    const m = /^#\/(definitions|\$defs)\/([^/~%]+)$/.exec(s.$ref);
    const defs = m ? (root[m[1] as string] as Record<string, unknown> | undefined) : undefined;
    if (!m || !defs || !Object.hasOwn(defs, m[2] as string)) throw new Unsupported(`$ref ${s.$ref}`);
    return nodeOf(defs[m[2] as string], root, depth + 1);
  }
  const node: Node = { types: T_ANY, required: 0, closed: false, slot: -1 };
  for (const [k, v] of Object.entries(s)) {
    if (ANNOTATIONS.has(k)) continue;
    if (k === 'type') {
      const list = Array.isArray(v) ? v : [v];
      node.types = 0;
      for (const t of list) {
        const bit = typeof t === 'string' ? TYPE_BITS[t] : undefined;
        if (bit === undefined) throw new Unsupported(`type ${JSON.stringify(t)}`);
        node.types |= bit;
      }
    } else if (k === 'enum') {
      if (!Array.isArray(v) || !v.every((x) => x === null || ['string', 'number', 'boolean'].includes(typeof x))) throw new Unsupported('enum of objects or arrays');
      node.enumValues = v as Node['enumValues'];
      node.enumBytes = v.filter((x) => typeof x === 'string').map((x) => enc(x as string));
    } else if (k === 'additionalProperties') {
      if (typeof v !== 'boolean') throw new Unsupported('additionalProperties with a schema');
      node.closed = !v;
    } else if (k !== 'properties' && k !== 'required') {
      throw new Unsupported(`keyword ${k}`);
    }
  }
  const props = (s.properties ?? {}) as Record<string, unknown>;
  const required = (s.required ?? []) as string[];
  const names = [...new Set([...Object.keys(props), ...required])];
  if (names.length > MAX_KEYS) throw new Unsupported('too many properties');
  // ajv reads a property as data[name]: a name Object.prototype has (constructor, __proto__) is never absent to it.
  if (names.some((n) => n in Object.prototype)) throw new Unsupported('a property named as one of Object.prototype');
  if (names.length || node.closed) {
    node.keys = names.map((name) => ({ name: enc(name), node: Object.hasOwn(props, name) ? nodeOf(props[name], root, depth + 1) : { types: T_ANY, required: 0, closed: false, slot: -1 } }));
    names.forEach((name, i) => {
      if (required.includes(name)) node.required |= 1 << i;
    });
  }
  return node;
}

/** Marks the value at `tokens` as extract `slot`, adding named keys where the schema names none. */
function markExtract(root: Node, tokens: readonly string[], slot: number): void {
  let node = root;
  for (const t of tokens) {
    // An extract passes through objects only: where the value is anything else, the scan is undecided.
    node.types &= T_OBJECT;
    if (!node.types) throw new Unsupported('an extract through a value the schema says is no object');
    node.keys ??= [];
    const name = enc(t);
    let key = node.keys.find((k) => Buffer.compare(k.name, name) === 0);
    if (!key) {
      if (node.closed) throw new Unsupported('an extract of a key additionalProperties forbids');
      if (node.keys.length >= MAX_KEYS) throw new Unsupported('too many properties');
      key = { name, node: { types: T_ANY, required: 0, closed: false, slot: -1 } };
      node.keys.push(key);
    }
    node = key.node;
  }
  if (node.slot !== -1) throw new Unsupported('two extracts of one value');
  node.slot = slot;
}

/**
 * The fast path of `schema` (a schema ajv already compiled), taking out the event_id and the
 * values `operationKey` points at; undefined when the schema uses anything the scanner cannot decide.
 */
export function compileFastCheck(schema: Record<string, unknown>, operationKey: readonly { tokens: readonly string[] }[] | undefined): FastCheck | undefined {
  let root: Node;
  try {
    root = nodeOf(schema, schema, 0);
    // The checks read event_id only from an object event: the root of a fast event is an object.
    markExtract(root, ['event_id'], 0);
    operationKey?.forEach((p, i) => markExtract(root, p.tokens, i + 1));
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  return makeScanner(root, 1 + (operationKey?.length ?? 0));
}

/** Extract kinds: absent, a string without escapes (its bytes are its JSON text), any other value. */
const ABSENT = 0;
const PLAIN_STRING = 1;
const OTHER = 2;

/** Where a scan puts the extracts it finds: byte ranges of their JSON text, and their kinds. */
interface Extracts {
  starts: Int32Array;
  ends: Int32Array;
  kinds: Uint8Array;
}

// The scanner's functions take the bytes, a position and the end, and answer the position after
// what they read, or FAIL (undecided). Positions stay in locals and arguments, not in shared
// variables: V8 keeps those in registers, which makes the scan several times faster.
const FAIL = -1;
/** Added to str()'s answer when the string has an escape (event values stay far below 2^30 bytes). */
const ESCAPED = 2 ** 30;

function ws(b: Buffer, p: number, end: number): number {
  while (p < end) {
    const c = b[p] as number;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    p++;
  }
  return p;
}

/** 1 for the bytes str() stops at: '"', '\\' and the control characters. */
const STRING_STOP = new Uint8Array(256).map((_, c) => (c === 0x22 || c === 0x5c || c < 0x20 ? 1 : 0));

/** At a '"': the position after the closing quote (+ ESCAPED when the string has an escape), or FAIL. */
function str(b: Buffer, p: number, end: number): number {
  p++;
  // One look-up per byte for the three bytes that end the plain run: a quote, a backslash, a control.
  while (p < end && STRING_STOP[b[p] as number] === 0) p++;
  if (p >= end) return FAIL;
  if (b[p] === 0x22) return p + 1;
  // From the first backslash or control character on.
  while (p < end) {
    const c = b[p++] as number;
    if (c === 0x22) return p + ESCAPED;
    if (c < 0x20) return FAIL;
    if (c === 0x5c) {
      if (p >= end) return FAIL;
      const e = b[p++] as number;
      if (e === 0x75) {
        if (p + 4 > end) return FAIL;
        for (let i = 0; i < 4; i++) {
          const h = b[p++] as number;
          if (!((h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66))) return FAIL;
        }
      } else if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) {
        return FAIL;
      }
    }
  }
  return FAIL;
}

function digits(b: Buffer, p: number, end: number): number {
  while (p < end) {
    const c = b[p] as number;
    if (c < 0x30 || c > 0x39) break;
    p++;
  }
  return p;
}

/** A number in JSON's grammar, or FAIL. */
function num(b: Buffer, p: number, end: number): number {
  if (b[p] === 0x2d) p++;
  if (b[p] === 0x30) p++;
  else {
    const q = digits(b, p, end);
    if (q === p) return FAIL;
    p = q;
  }
  if (b[p] === 0x2e) {
    const q = digits(b, p + 1, end);
    if (q === p + 1) return FAIL;
    p = q;
  }
  if (b[p] === 0x65 || b[p] === 0x45) {
    p++;
    if (b[p] === 0x2b || b[p] === 0x2d) p++;
    const q = digits(b, p, end);
    if (q === p) return FAIL;
    p = q;
  }
  return p;
}

function literal(b: Buffer, p: number, end: number, text: readonly number[]): number {
  if (p + text.length > end) return FAIL;
  for (let i = 0; i < text.length; i++) if (b[p + i] !== text[i]) return FAIL;
  return p + text.length;
}

/** true, false, null or a number: the position after it, or FAIL. */
function scalar(b: Buffer, p: number, end: number): number {
  const c = b[p];
  if (c === 0x74) return literal(b, p, end, TRUE);
  if (c === 0x66) return literal(b, p, end, FALSE);
  if (c === 0x6e) return literal(b, p, end, NULL);
  return num(b, p, end);
}

/** The type bit of a scalar by its first byte. */
function scalarType(c: number): number {
  return c === 0x74 || c === 0x66 ? T_BOOLEAN : c === 0x6e ? T_NULL : T_NUMBER;
}

/** Any JSON value, syntax only. */
function skip(b: Buffer, p: number, end: number, depth: number): number {
  const c = b[p];
  if (c === 0x22) {
    const q = str(b, p, end);
    return q === FAIL ? FAIL : q % ESCAPED;
  }
  if (c !== 0x7b && c !== 0x5b) return scalar(b, p, end);
  if (depth >= MAX_DEPTH) return FAIL;
  const close = c === 0x7b ? 0x7d : 0x5d;
  p = ws(b, p + 1, end);
  if (b[p] === close) return p + 1;
  for (;;) {
    if (c === 0x7b) {
      if (b[p] !== 0x22) return FAIL;
      p = str(b, p, end);
      if (p === FAIL) return FAIL;
      p = ws(b, p % ESCAPED, end);
      if (b[p] !== 0x3a) return FAIL;
      p = ws(b, p + 1, end);
    }
    p = skip(b, p, end, depth + 1);
    if (p === FAIL) return FAIL;
    p = ws(b, p, end);
    const d = b[p++];
    if (d === close) return p;
    if (d !== 0x2c) return FAIL;
    p = ws(b, p, end);
  }
}

/** The value of a number's JSON text: small whole numbers read from the digits, others as JSON.parse reads them. */
function numberValue(b: Buffer, from: number, to: number): number {
  let i = from;
  const negative = b[i] === 0x2d;
  if (negative) i++;
  if (to - i <= 15) {
    let n = 0;
    for (; i < to; i++) {
      const c = b[i] as number;
      if (c < 0x30 || c > 0x39) break;
      n = n * 10 + (c - 0x30);
    }
    if (i === to) return negative ? -n : n;
  }
  return Number(b.toString('latin1', from, to));
}

function sameBytes(b: Buffer, from: number, to: number, bytes: Uint8Array): boolean {
  if (bytes.length !== to - from) return false;
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== b[from + i]) return false;
  return true;
}

/** Whether the scalar or string at [from, to) is one of the enum's values (ajv compares plain values with ===). */
function inEnum(node: Node, b: Buffer, from: number, to: number, type: number, escaped: boolean): boolean {
  const values = node.enumValues as NonNullable<Node['enumValues']>;
  if (type === T_STRING && !escaped) {
    // A string without escapes is its UTF-8 bytes: compare them with each allowed string's.
    for (const e of node.enumBytes as Uint8Array[]) if (sameBytes(b, from + 1, to - 1, e)) return true;
    return false;
  }
  const v: unknown = type === T_NUMBER ? numberValue(b, from, to) : JSON.parse(b.toString('utf8', from, to));
  for (const e of values) if (e === v) return true;
  return false;
}

/** A value against its node: the position after it when it satisfies the node, else FAIL. */
function value(node: Node, b: Buffer, p: number, end: number, depth: number, x: Extracts): number {
  if (node.plain) return skip(b, p, end, depth);
  const from = p;
  const c = b[p] as number;
  let type: number;
  let escaped = false;
  if (c === 0x22) {
    p = str(b, p, end);
    if (p === FAIL) return FAIL;
    escaped = p >= ESCAPED;
    p %= ESCAPED;
    type = T_STRING;
  } else if (c === 0x7b) {
    if (!(node.types & T_OBJECT)) return FAIL;
    p = node.keys && !node.enumValues ? (depth >= MAX_DEPTH ? FAIL : object(node, b, p, end, depth + 1, x)) : skip(b, p, end, depth);
    if (p === FAIL) return FAIL;
    type = T_OBJECT;
  } else if (c === 0x5b) {
    p = skip(b, p, end, depth);
    if (p === FAIL) return FAIL;
    type = T_ARRAY;
  } else {
    p = scalar(b, p, end);
    if (p === FAIL) return FAIL;
    type = scalarType(c);
    // "integer" as ajv tests it: a number without a fraction (Number.isInteger is the stricter test: no Infinity).
    if (type === T_NUMBER && !(node.types & T_NUMBER) && Number.isInteger(numberValue(b, from, p))) type = T_INTEGER;
  }
  if (!(node.types & type)) return FAIL;
  if (node.enumValues && (type === T_OBJECT || type === T_ARRAY || !inEnum(node, b, from, p, type, escaped))) return FAIL;
  if (node.slot >= 0) {
    x.starts[node.slot] = from;
    x.ends[node.slot] = p;
    x.kinds[node.slot] = type === T_STRING && !escaped ? PLAIN_STRING : OTHER;
  }
  return p;
}

/** At a '{': the object against a node with named keys. */
function object(node: Node, b: Buffer, p: number, end: number, depth: number, x: Extracts): number {
  const keys = node.keys as NonNullable<Node['keys']>;
  let seen = 0;
  p = ws(b, p + 1, end);
  if (b[p] === 0x7d) return node.required === 0 ? p + 1 : FAIL;
  for (;;) {
    if (b[p] !== 0x22) return FAIL;
    const nameFrom = p + 1;
    p = str(b, p, end);
    // An escaped key may be a named one in disguise: leave it to JSON.parse.
    if (p === FAIL || p >= ESCAPED) return FAIL;
    const nameLength = p - 1 - nameFrom;
    let found = -1;
    for (let k = 0; k < keys.length; k++) {
      const name = (keys[k] as { name: Uint8Array }).name;
      if (name.length !== nameLength) continue;
      let i = 0;
      while (i < nameLength && name[i] === b[nameFrom + i]) i++;
      if (i === nameLength) {
        found = k;
        break;
      }
    }
    p = ws(b, p, end);
    if (b[p] !== 0x3a) return FAIL;
    p = ws(b, p + 1, end);
    if (found >= 0) {
      // A key twice: JSON.parse keeps the last value. Checking both would be as safe (stricter); handing the event over is simpler to trust.
      if (seen & (1 << found)) return FAIL;
      seen |= 1 << found;
      p = value((keys[found] as { node: Node }).node, b, p, end, depth, x);
    } else {
      p = node.closed ? FAIL : skip(b, p, end, depth);
    }
    if (p === FAIL) return FAIL;
    p = ws(b, p, end);
    const d = b[p++];
    if (d === 0x7d) break;
    if (d !== 0x2c) return FAIL;
    p = ws(b, p, end);
  }
  return (seen & node.required) === node.required ? p : FAIL;
}

/** Marks the nodes that ask nothing of their value (no type, enum, keys or extract): those are only skipped. */
function markPlain(node: Node): void {
  node.plain = node.types === T_ANY && !node.enumValues && !node.keys && node.slot === -1;
  for (const k of node.keys ?? []) markPlain(k.node);
}

function makeScanner(root: Node, slots: number): FastCheck {
  markPlain(root);
  const x: Extracts = { starts: new Int32Array(slots), ends: new Int32Array(slots), kinds: new Uint8Array(slots) };
  const text = (bytes: Buffer, i: number): string => bytes.toString('utf8', x.starts[i], x.ends[i]);
  const h = new Int32Array(2);
  return {
    scan(b) {
      const end = b.length;
      x.kinds.fill(ABSENT);
      let p = ws(b, 0, end);
      if (b[p] !== 0x7b) return false;
      p = value(root, b, p, end, 0, x);
      if (p === FAIL || ws(b, p, end) !== end) return false;
      // An operationKey value that is absent fails the event: the full check names it.
      for (let i = 1; i < slots; i++) if (x.kinds[i] === ABSENT) return false;
      return true;
    },
    eventId(bytes) {
      if (x.kinds[0] === ABSENT) return undefined;
      const t = text(bytes, 0);
      if (x.kinds[0] === PLAIN_STRING) return t.slice(1, -1);
      const v: unknown = JSON.parse(t);
      return typeof v === 'string' ? v : undefined;
    },
    operationText(bytes) {
      // A string without escapes is its own JSON text, as JSON.stringify writes it; others are re-written.
      let out = '[';
      for (let i = 1; i < slots; i++) {
        const t = text(bytes, i);
        out += (i > 1 ? ',' : '') + (x.kinds[i] === PLAIN_STRING ? t : JSON.stringify(JSON.parse(t)));
      }
      return `${out}]`;
    },
    hashEventId(bytes, out, at) {
      if (x.kinds[0] !== PLAIN_STRING) return false;
      h[0] = H1;
      h[1] = H2;
      if (!mixBytes(h, bytes, (x.starts[0] as number) + 1, (x.ends[0] as number) - 1)) return false;
      writeHash(h, out, at);
      return true;
    },
    hashOperation(bytes, out, at) {
      // operationText is ["a","b"]: each plain string's bytes with their quotes, between [ , and ].
      h[0] = H1;
      h[1] = H2;
      mixByte(h, 0x5b);
      for (let i = 1; i < slots; i++) {
        if (x.kinds[i] !== PLAIN_STRING) return false;
        if (i > 1) mixByte(h, 0x2c);
        if (!mixBytes(h, bytes, x.starts[i] as number, x.ends[i] as number)) return false;
      }
      mixByte(h, 0x5d);
      writeHash(h, out, at);
      return true;
    },
  };
}

// hashId (src/util/seen-ids.ts) over bytes: for ASCII text a byte is the UTF-16 code unit hashId
// reads, so both give the same hash without making the string. The fast-path test checks that
// every hash written here equals hashId's of the same text.
const H1 = 0x811c9dc5;
const H2 = 0x01000193 ^ 0x9e3779b9;

/**
 * Mixes bytes [from, to) of `b` into the hash state `h` (h[0], h[1]); false on a byte that is not
 * ASCII (its code unit would differ).
 */
function mixBytes(h: Int32Array, b: Buffer, from: number, to: number): boolean {
  let h1 = h[0] as number;
  let h2 = h[1] as number;
  let all = 0;
  for (let i = from; i < to; i++) {
    const c = b[i] as number;
    all |= c;
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h[0] = h1;
  h[1] = h2;
  return all < 0x80;
}

function mixByte(h: Int32Array, c: number): void {
  h[0] = Math.imul((h[0] as number) ^ c, 0x01000193);
  const h2 = Math.imul((h[1] as number) ^ c, 0x5bd1e995);
  h[1] = h2 ^ (h2 >>> 15);
}

function writeHash(h: Int32Array, out: Uint32Array, at: number): void {
  const h1 = h[0] as number;
  const h2 = h[1] as number;
  out[at] = h1 >>> 0;
  out[at + 1] = h1 === 0 && h2 === 0 ? 1 : h2 >>> 0;
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];
