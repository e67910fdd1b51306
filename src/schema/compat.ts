/**
 * Backward compatibility between two versions of an event schema, in Confluent's BACKWARD sense:
 * a consumer using the new schema can read every event valid under the old one. The check is
 * structural (it compares keywords, it does not enumerate values), conservative where it cannot
 * decide (a changed `not`, `if`, `propertyNames`... is reported as unverifiable), and pragmatic
 * in one documented place: a new optional property in an open object is accepted, although an
 * old producer could in theory have sent that name with another type.
 *
 * The envelope's `event_version` and `event_name` are discriminators that change with every
 * version by design, so their `const` and `enum` are ignored (their `type` is still compared).
 */
import { isDeepStrictEqual } from 'node:util';

type Schema = Record<string, unknown> | boolean;

/** Envelope fields whose const/enum identify the version rather than constrain the data. */
const DISCRIMINATORS = new Set(['event_version', 'event_name']);

/** Keywords this check does not reason about: any change to them is reported, not judged. */
const UNVERIFIABLE = [
  'not',
  'if',
  'then',
  'else',
  'dependencies',
  'dependentRequired',
  'dependentSchemas',
  'propertyNames',
  'contains',
  'minContains',
  'maxContains',
  'unevaluatedProperties',
  'unevaluatedItems',
  '$dynamicRef',
  '$recursiveRef',
] as const;

const MAX_DEPTH = 64;
const MAX_VARIANTS = 64;
/** Marks a $ref this check cannot follow (not local, or to nothing). */
const UNRESOLVED = Symbol('unresolved $ref');

/**
 * Why the new schema cannot read every event valid under the old one; empty when it can.
 * Each reason starts with the JSON path it is about, e.g. `payload.title: type changed from string to integer`.
 */
export function checkBackwardCompatible(oldSchema: Record<string, unknown>, newSchema: Record<string, unknown>): string[] {
  const reasons: string[] = [];
  new Comparison(oldSchema, newSchema).compare(oldSchema, newSchema, '', 0, reasons);
  return [...new Set(reasons)];
}

class Comparison {
  /** Pairs of raw nodes being compared on the current recursion path: a recursive schema ends here. */
  private readonly active = new Map<unknown, Set<unknown>>();
  constructor(
    private readonly oldRoot: Record<string, unknown>,
    private readonly newRoot: Record<string, unknown>,
  ) {}

  compare(oldRaw: unknown, newRaw: unknown, path: string, depth: number, reasons: string[]): void {
    if (depth > MAX_DEPTH || newRaw === true || newRaw === undefined) return;
    const pair = this.active.get(oldRaw);
    if (pair?.has(newRaw)) return;
    if (pair) pair.add(newRaw);
    else this.active.set(oldRaw, new Set([newRaw]));
    try {
      const oldVariants = variants(resolve(oldRaw, this.oldRoot, 0), this.oldRoot, 0);
      const newVariants = variants(resolve(newRaw, this.newRoot, 0), this.newRoot, 0);
      if (oldVariants === undefined || newVariants === undefined) {
        if (!isDeepStrictEqual(oldRaw, newRaw)) reasons.push(`${label(path)}: too many anyOf/oneOf alternatives to compare; check by hand`);
        return;
      }
      if (oldVariants.length === 1 && newVariants.length === 1) {
        this.compareNode(oldVariants[0] as Schema, newVariants[0] as Schema, path, depth, reasons);
        return;
      }
      // Every old alternative must be readable by at least one new alternative.
      for (const [i, ov] of oldVariants.entries()) {
        let best: string[] | undefined;
        for (const nv of newVariants) {
          const attempt: string[] = [];
          this.compareNode(ov, nv, path, depth, attempt);
          if (best === undefined || attempt.length < best.length) best = attempt;
          if (attempt.length === 0) break;
        }
        if (!best || best.length === 0) continue;
        if (newVariants.length === 1) reasons.push(...best);
        else {
          const which = oldVariants.length > 1 ? `old alternative ${i + 1}` : 'the old schema';
          reasons.push(`${label(path)}: no alternative of the new anyOf/oneOf accepts everything ${which} allowed (closest: ${best[0]})`);
        }
      }
    } finally {
      this.active.get(oldRaw)?.delete(newRaw);
    }
  }

  private compareNode(oldNode: Schema, newNode: Schema, path: string, depth: number, reasons: string[]): void {
    const at = label(path);
    if (newNode === true) return;
    if (oldNode === false) return; // nothing was valid before
    if (newNode === false) {
      reasons.push(`${at}: no longer accepts any value`);
      return;
    }
    let o = oldNode === true ? {} : oldNode;
    let n = newNode;
    const oldRef = (o as Record<symbol, unknown>)[UNRESOLVED] as string | undefined;
    const newRef = (n as Record<symbol, unknown>)[UNRESOLVED] as string | undefined;
    if (oldRef !== undefined || newRef !== undefined) {
      if (oldRef !== newRef) reasons.push(`${at}: $ref "${newRef ?? oldRef}" cannot be followed (only "#/..." refs within the file are); check by hand`);
      return;
    }
    if (DISCRIMINATORS.has(path)) {
      o = omit(o, ['enum', 'const']);
      n = omit(n, ['enum', 'const']);
    }
    const oldValues = allowedValues(o);

    compareTypes(o, n, oldValues, at, reasons);
    compareValues(o, n, oldValues, at, reasons);
    compareBounds(o, n, oldValues, at, reasons);
    for (const k of UNVERIFIABLE) {
      if (n[k] !== undefined && !isDeepStrictEqual(o[k], n[k])) {
        reasons.push(`${at}: "${k}" ${o[k] === undefined ? 'added' : 'changed'}; compatibility cannot be checked automatically`);
      }
    }
    this.compareObjects(o, n, path, depth, reasons);
    this.compareArrays(o, n, path, depth, reasons);
  }

  private compareObjects(o: Record<string, unknown>, n: Record<string, unknown>, path: string, depth: number, reasons: string[]): void {
    const oldProps = asMap(o.properties);
    const newProps = asMap(n.properties);
    const oldPatterns = asMap(o.patternProperties);
    const newPatterns = asMap(n.patternProperties);
    const oldRequired = asStrings(o.required);
    for (const name of asStrings(n.required)) {
      if (!oldRequired.includes(name)) reasons.push(`${join(path, name)}: newly required`);
    }
    for (const [name, newProp] of Object.entries(newProps)) {
      const sub = join(path, name);
      if (name in oldProps) {
        this.compare(oldProps[name], newProp, sub, depth + 1, reasons);
        continue;
      }
      const oldPattern = matchingPattern(oldPatterns, name);
      if (oldPattern !== undefined) this.compare(oldPattern, newProp, sub, depth + 1, reasons);
      else if (isSchemaObject(o.additionalProperties)) this.compare(o.additionalProperties, newProp, sub, depth + 1, reasons);
      // else: a new property. Closed before: no old event has it. Open before: accepted (see the file comment).
    }
    for (const [name, oldProp] of Object.entries(oldProps)) {
      if (name in newProps) {
        // A new patternProperties entry applies to declared properties too.
        const newPattern = matchingPattern(newPatterns, name);
        if (newPattern !== undefined && !(name in oldPatterns)) this.compare(oldProp, newPattern, join(path, name), depth + 1, reasons);
        continue;
      }
      const sub = join(path, name);
      const newPattern = matchingPattern(newPatterns, name);
      if (newPattern !== undefined) this.compare(oldProp, newPattern, sub, depth + 1, reasons);
      else if (n.additionalProperties === false) reasons.push(`${sub}: property removed while additionalProperties is false`);
      else if (isSchemaObject(n.additionalProperties)) this.compare(oldProp, n.additionalProperties, sub, depth + 1, reasons);
    }
    for (const [pattern, newPattern] of Object.entries(newPatterns)) {
      if (pattern in oldPatterns) this.compare(oldPatterns[pattern], newPattern, `${path}[/${pattern}/]`, depth + 1, reasons);
    }
    if (n.additionalProperties === false && o.additionalProperties !== false) {
      reasons.push(`${label(path)}: additionalProperties: false added`);
    } else if (isSchemaObject(n.additionalProperties) && o.additionalProperties !== false) {
      this.compare(o.additionalProperties ?? true, n.additionalProperties, `${path}.*`, depth + 1, reasons);
    }
  }

  private compareArrays(o: Record<string, unknown>, n: Record<string, unknown>, path: string, depth: number, reasons: string[]): void {
    const tuple = Math.max(tupleLength(o), tupleLength(n));
    for (let i = 0; i < tuple; i++) this.compare(itemSchema(o, i), itemSchema(n, i), `${path}[${i}]`, depth + 1, reasons);
    this.compare(restItems(o), restItems(n), `${path}[]`, depth + 1, reasons);
  }
}

function compareTypes(o: Record<string, unknown>, n: Record<string, unknown>, oldValues: unknown[] | undefined, at: string, reasons: string[]): void {
  const newTypes = typesOf(n.type);
  if (!newTypes) return;
  const oldTypes = oldValues ? [...new Set(oldValues.map(jsonType))] : typesOf(o.type);
  if (!oldTypes) {
    reasons.push(`${at}: type restricted from any to ${formatTypes(newTypes)}`);
    return;
  }
  const lost = oldTypes.filter((t) => !typeAccepts(newTypes, t));
  if (lost.length === 0) return;
  const narrowed = newTypes.every((t) => typeAccepts(oldTypes, t));
  reasons.push(`${at}: type ${narrowed ? 'narrowed' : 'changed'} from ${formatTypes(typesOf(o.type) ?? oldTypes)} to ${formatTypes(newTypes)}`);
}

function compareValues(o: Record<string, unknown>, n: Record<string, unknown>, oldValues: unknown[] | undefined, at: string, reasons: string[]): void {
  const newValues = allowedValues(n);
  if (!newValues) return;
  if (!oldValues) {
    reasons.push(`${at}: ${n.const !== undefined ? 'const' : 'enum'} added: only ${formatValues(newValues)} accepted`);
    return;
  }
  const lost = oldValues.filter((v) => !newValues.some((w) => isDeepStrictEqual(v, w)));
  if (lost.length === 0) return;
  if (o.const !== undefined && n.const !== undefined) reasons.push(`${at}: const changed from ${JSON.stringify(o.const)} to ${JSON.stringify(n.const)}`);
  else reasons.push(`${at}: enum lost ${formatValues(lost)}`);
}

/** Numeric bounds, lengths and sizes, multipleOf, pattern, format, uniqueItems. */
function compareBounds(o: Record<string, unknown>, n: Record<string, unknown>, oldValues: unknown[] | undefined, at: string, reasons: string[]): void {
  if (oldValues) {
    // The old values are known: judge them, not the keywords.
    for (const v of oldValues) {
      const broken = scalarViolation(v, n);
      if (broken) reasons.push(`${at}: ${broken} rejects the old value ${JSON.stringify(v)}`);
    }
  } else {
    const ol = lowerBound(o);
    const nl = lowerBound(n);
    if (nl && (!ol || nl.value > ol.value || (nl.value === ol.value && nl.exclusive && !ol.exclusive))) {
      reasons.push(`${at}: minimum ${ol ? `raised from ${formatBound(ol, '>')} to` : 'added:'} ${formatBound(nl, '>')}`);
    }
    const ou = upperBound(o);
    const nu = upperBound(n);
    if (nu && (!ou || nu.value < ou.value || (nu.value === ou.value && nu.exclusive && !ou.exclusive))) {
      reasons.push(`${at}: maximum ${ou ? `lowered from ${formatBound(ou, '<')} to` : 'added:'} ${formatBound(nu, '<')}`);
    }
    const om = num(o.multipleOf);
    const nm = num(n.multipleOf);
    if (nm !== undefined && (om === undefined || !Number.isInteger(om / nm))) {
      reasons.push(`${at}: multipleOf ${om === undefined ? `added: ${nm}` : `changed from ${om} to ${nm}`}`);
    }
    for (const k of ['minLength', 'maxLength'] as const) compareSize(o, n, k, at, reasons);
    if (typeof n.pattern === 'string' && n.pattern !== o.pattern) {
      reasons.push(`${at}: pattern ${typeof o.pattern === 'string' ? `changed from /${o.pattern}/ to` : 'added:'} /${n.pattern}/`);
    }
  }
  for (const k of ['minItems', 'maxItems', 'minProperties', 'maxProperties'] as const) compareSize(o, n, k, at, reasons);
  if (typeof n.format === 'string' && n.format !== o.format) {
    reasons.push(`${at}: format ${typeof o.format === 'string' ? `changed from ${o.format} to` : 'added:'} ${n.format}`);
  }
  if (n.uniqueItems === true && o.uniqueItems !== true) reasons.push(`${at}: uniqueItems added`);
}

function compareSize(o: Record<string, unknown>, n: Record<string, unknown>, k: string, at: string, reasons: string[]): void {
  const ov = num(o[k]);
  const nv = num(n[k]);
  if (nv === undefined) return;
  if (k.startsWith('min') ? nv > (ov ?? 0) : nv < (ov ?? Infinity)) {
    reasons.push(`${at}: ${k} ${ov === undefined ? 'added:' : `${k.startsWith('min') ? 'raised' : 'lowered'} from ${ov} to`} ${nv}`);
  }
}

/** Which of the new schema's scalar constraints a known old value breaks, if any. */
function scalarViolation(v: unknown, n: Record<string, unknown>): string | undefined {
  if (typeof v === 'number') {
    const lo = lowerBound(n);
    if (lo && (v < lo.value || (v === lo.value && lo.exclusive))) return `minimum ${formatBound(lo, '>')}`;
    const hi = upperBound(n);
    if (hi && (v > hi.value || (v === hi.value && hi.exclusive))) return `maximum ${formatBound(hi, '<')}`;
    const m = num(n.multipleOf);
    if (m !== undefined && !Number.isInteger(v / m)) return `multipleOf ${m}`;
  }
  if (typeof v === 'string') {
    const length = [...v].length;
    const min = num(n.minLength);
    if (min !== undefined && length < min) return `minLength ${min}`;
    const max = num(n.maxLength);
    if (max !== undefined && length > max) return `maxLength ${max}`;
    if (typeof n.pattern === 'string') {
      try {
        if (!new RegExp(n.pattern, 'u').test(v)) return `pattern /${n.pattern}/`;
      } catch {
        return `pattern /${n.pattern}/ (not a valid regular expression)`;
      }
    }
  }
  return undefined;
}

interface Bound {
  value: number;
  exclusive: boolean;
}

/** The tightest lower bound: draft-04's boolean exclusiveMinimum, or draft-06+'s numeric one. */
function lowerBound(s: Record<string, unknown>): Bound | undefined {
  return tightest(s.minimum, s.exclusiveMinimum, (a, b) => a > b);
}

function upperBound(s: Record<string, unknown>): Bound | undefined {
  return tightest(s.maximum, s.exclusiveMaximum, (a, b) => a < b);
}

function tightest(inclusive: unknown, exclusive: unknown, tighter: (a: number, b: number) => boolean): Bound | undefined {
  const candidates: Bound[] = [];
  if (typeof inclusive === 'number') candidates.push({ value: inclusive, exclusive: exclusive === true });
  if (typeof exclusive === 'number') candidates.push({ value: exclusive, exclusive: true });
  let best: Bound | undefined;
  for (const c of candidates) {
    if (!best || tighter(c.value, best.value) || (c.value === best.value && c.exclusive)) best = c;
  }
  return best;
}

function formatBound(b: Bound, direction: '>' | '<'): string {
  return `${direction}${b.exclusive ? '' : '='} ${b.value}`;
}

/** Follows $ref and folds allOf into one schema (approximately: see merge). */
function resolve(node: unknown, root: Record<string, unknown>, hops: number): Schema {
  if (typeof node === 'boolean') return node;
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return {};
  let s = node as Record<string, unknown>;
  if (typeof s.$ref === 'string') {
    const ref = s.$ref;
    const { $ref: _ref, ...siblings } = s;
    const target = hops < 32 ? lookup(root, ref) : undefined;
    const resolved: Schema = target === undefined ? { [UNRESOLVED]: ref } : resolve(target, root, hops + 1);
    // Before 2019-09 the keywords beside a $ref are ignored; since, they apply too. Keeping
    // them is the stricter reading for the new schema and rarely matters for the old one.
    const merged = merge(resolved, siblings);
    if (typeof merged === 'boolean') return merged;
    s = merged;
  }
  if (Array.isArray(s.allOf)) {
    const { allOf, ...rest } = s;
    let merged: Schema = rest;
    for (const member of allOf as unknown[]) merged = merge(merged, resolve(member, root, hops + 1));
    return merged;
  }
  return s;
}

/** The value a local ref ("#", "#/definitions/x", "#/$defs/x", any "#/..." pointer) names. */
function lookup(root: Record<string, unknown>, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let cur: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    let token: string;
    try {
      token = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    } catch {
      return undefined;
    }
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, token)) return undefined;
    cur = (cur as Record<string, unknown>)[token];
  }
  return cur;
}

/**
 * Both schemas at once, as one. Exact for properties, required, type and enum; for other
 * keywords present on both sides the stricter bound wins, or the first one stays.
 */
function merge(a: Schema, b: Schema): Schema {
  if (a === false || b === false) return false;
  if (a === true) return b;
  if (b === true) return a;
  const out: Record<string | symbol, unknown> = { ...a };
  for (const sym of Object.getOwnPropertySymbols(b)) out[sym] = (b as Record<symbol, unknown>)[sym];
  for (const [k, bv] of Object.entries(b)) {
    const av = a[k];
    if (av === undefined) out[k] = bv;
    else if (k === 'properties' || k === 'patternProperties') {
      const m: Record<string, unknown> = { ...asMap(av) };
      for (const [name, sub] of Object.entries(asMap(bv))) m[name] = name in m ? { allOf: [m[name], sub] } : sub;
      out[k] = m;
    } else if (k === 'required') out[k] = [...new Set([...asStrings(av), ...asStrings(bv)])];
    else if (k === 'type') {
      const at = typesOf(av) ?? [];
      const bt = typesOf(bv) ?? [];
      out[k] = [...at.filter((t) => typeAccepts(bt, t)), ...bt.filter((t) => t === 'integer' && at.includes('number'))];
    } else if (k === 'enum') out[k] = (av as unknown[]).filter((v) => Array.isArray(bv) && bv.some((w) => isDeepStrictEqual(v, w)));
    else if (['minimum', 'minLength', 'minItems', 'minProperties'].includes(k)) out[k] = Math.max(Number(av), Number(bv));
    else if (['maximum', 'maxLength', 'maxItems', 'maxProperties'].includes(k)) out[k] = Math.min(Number(av), Number(bv));
    else if (k === 'additionalProperties' && (av === false || bv === false)) out[k] = false;
  }
  return out as Record<string, unknown>;
}

/**
 * A schema as the list of its anyOf/oneOf alternatives, each merged with the keywords beside
 * it (oneOf's "exactly one" is read as anyOf); undefined when there are too many to compare.
 */
function variants(s: Schema, root: Record<string, unknown>, nesting: number): Schema[] | undefined {
  if (typeof s === 'boolean') return [s];
  const key = Array.isArray(s.anyOf) ? 'anyOf' : Array.isArray(s.oneOf) ? 'oneOf' : undefined;
  if (!key) return [s];
  if (nesting > 8) return undefined;
  const { [key]: alternatives, ...siblings } = s;
  const out: Schema[] = [];
  for (const alt of alternatives as unknown[]) {
    const expanded = variants(merge(siblings, resolve(alt, root, 0)), root, nesting + 1);
    if (!expanded) return undefined;
    out.push(...expanded);
    if (out.length > MAX_VARIANTS) return undefined;
  }
  return out;
}

function tupleLength(s: Record<string, unknown>): number {
  if (Array.isArray(s.prefixItems)) return s.prefixItems.length;
  return Array.isArray(s.items) ? s.items.length : 0;
}

/** The schema element i of an array must match. */
function itemSchema(s: Record<string, unknown>, i: number): unknown {
  if (Array.isArray(s.prefixItems)) return i < s.prefixItems.length ? s.prefixItems[i] : (s.items ?? true);
  if (Array.isArray(s.items)) return i < s.items.length ? s.items[i] : (s.additionalItems ?? true);
  return s.items ?? true;
}

/** The schema the elements after the tuple part must match. */
function restItems(s: Record<string, unknown>): unknown {
  if (Array.isArray(s.prefixItems)) return s.items ?? true;
  if (Array.isArray(s.items)) return s.additionalItems ?? true;
  return s.items ?? true;
}

function matchingPattern(patterns: Record<string, unknown>, name: string): unknown {
  for (const [pattern, schema] of Object.entries(patterns)) {
    try {
      if (new RegExp(pattern, 'u').test(name)) return schema;
    } catch {
      // lint reports bad patterns
    }
  }
  return undefined;
}

/** enum, or const as a one-value enum. */
function allowedValues(s: Record<string, unknown>): unknown[] | undefined {
  if (s.const !== undefined) return [s.const];
  return Array.isArray(s.enum) ? s.enum : undefined;
}

function typesOf(type: unknown): string[] | undefined {
  if (typeof type === 'string') return [type];
  if (Array.isArray(type)) return type.filter((t): t is string => typeof t === 'string');
  return undefined;
}

/** Whether a `type` list accepts values of JSON type t (a number type accepts integers). */
function typeAccepts(types: string[], t: string): boolean {
  return types.includes(t) || (t === 'integer' && types.includes('number'));
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function formatTypes(types: string[]): string {
  return types.length === 1 ? (types[0] as string) : `[${types.join(', ')}]`;
}

function formatValues(values: unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join(', ');
}

function omit(s: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...s };
  for (const k of keys) delete out[k];
  return out;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

function asMap(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function asStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function isSchemaObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A property's path: payload.title, or payload["odd name"]. */
function join(path: string, name: string): string {
  if (/^[A-Za-z_$][\w$-]*$/.test(name)) return path ? `${path}.${name}` : name;
  return `${path}[${JSON.stringify(name)}]`;
}

function label(path: string): string {
  return path || '(root)';
}
