/**
 * Lints an event schema file: JSON syntax, a known dialect, validity against the dialect's
 * meta-schema, regular expressions, formats and local $refs, the seed's event envelope, and
 * that Ajv compiles it. Every problem carries file:line:col.
 */
import type { InputProblem } from '../errors.js';
import { JsonPositions, jsonLocation, parseJson, pointerToken, type JsonSyntaxError } from '../util/json.js';
import { ajvFor, compileSchema, dialectOf, type Dialect, type Validator } from './validate.js';

/** What linting one schema file found. */
export interface LintResult {
  /** The parsed schema, when the text is a JSON object. */
  schema?: Record<string, unknown>;
  /** Its dialect, when `$schema` names a known one (none means draft-07). */
  dialect?: Dialect;
  problems: InputProblem[];
}

/** The envelope every event carries (the seed's ExerciseCompleted schema). */
export const ENVELOPE = ['event_id', 'event_version', 'event_name', 'produced_at', 'payload'] as const;

/** The meta-schema URI each Ajv instance knows its dialect by. */
const CANONICAL_URI: Record<Dialect, string> = {
  'draft-04': 'http://json-schema.org/draft-04/schema#',
  'draft-06': 'http://json-schema.org/draft-06/schema#',
  'draft-07': 'http://json-schema.org/draft-07/schema#',
  '2019-09': 'https://json-schema.org/draft/2019-09/schema',
  '2020-12': 'https://json-schema.org/draft/2020-12/schema',
};

/** Keywords whose values are data, not subschemas: nothing under them is a keyword. */
const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'examples', 'example']);
/** Keywords whose values map names to subschemas. */
const NAME_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependentSchemas', 'dependencies']);

type AjvMeta = {
  validateSchema(schema: object): boolean | Promise<unknown>;
  errors?: { instancePath: string; keyword: string; params: Record<string, unknown>; message?: string }[] | null;
  formats: Record<string, unknown>;
};

/** Lints one schema file's text; `file` is how problems name it. */
export async function lintSchema(file: string, text: string): Promise<LintResult> {
  // A byte-order mark is not JSON whitespace; a space keeps every offset where it was.
  const source = text.startsWith('\uFEFF') ? ' ' + text.slice(1) : text;
  let doc: unknown;
  try {
    doc = parseJson(source);
  } catch (err) {
    const e = err as JsonSyntaxError;
    return { problems: [{ file, ...syntaxErrorPosition(source, e), message: `not valid JSON: ${e.message}` }] };
  }
  const pos = JsonPositions.of(source);
  const at = (pointer: string, message: string, where: 'value' | 'key' = 'value'): InputProblem => ({
    file,
    ...(where === 'key' ? pos.key(pointer) : pos.value(pointer)),
    message,
  });
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { problems: [at('', 'an event schema must be a JSON object')] };
  }
  const schema = doc as Record<string, unknown>;
  const dialect = dialectOf(schema);
  if (!dialect) {
    const problems = [
      at('/$schema', `unknown $schema ${JSON.stringify(schema.$schema)}; known: the json-schema.org URIs of draft-04, draft-06, draft-07, 2019-09 and 2020-12`),
      ...envelopeProblems(schema, at),
    ];
    return { schema, problems: inTextOrder(problems) };
  }

  const ajv = (await ajvFor(dialect)) as unknown as AjvMeta;
  const problems: InputProblem[] = [];
  const metaValid = (await ajv.validateSchema(forAjv(schema, dialect))) === true;
  if (!metaValid) problems.push(...metaProblems(ajv.errors ?? [], dialect, schema, at));
  const keywordProblems = walkKeywords(schema, dialect, Object.keys(ajv.formats), at);
  problems.push(...keywordProblems, ...envelopeProblems(schema, at));

  // Ajv reports only the first compile error and warns on the console about unknown formats:
  // compile only what the checks above found nothing wrong with.
  if (metaValid && keywordProblems.length === 0) {
    try {
      await compileEventSchema(schema);
    } catch (err) {
      const missing = (err as { missingRef?: unknown }).missingRef;
      const pointer = typeof missing === 'string' ? refPointer(schema, missing) : '';
      problems.push(at(pointer, `does not compile: ${(err as Error).message}`));
    }
  }
  return { schema, dialect, problems: inTextOrder(problems) };
}

function inTextOrder(problems: InputProblem[]): InputProblem[] {
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/**
 * Compiles a schema that lint accepted. The `$schema` URI is normalized (Ajv knows each dialect
 * by one spelling, e.g. not https://json-schema.org/draft-07/schema) and the root id is dropped
 * so two versions of one event's schema can be compiled in the same process.
 */
export async function compileEventSchema(schema: Record<string, unknown>): Promise<Validator> {
  const dialect = dialectOf(schema);
  if (!dialect) throw new Error(`unknown $schema ${JSON.stringify(schema.$schema)}`);
  return compileSchema(forAjv(schema, dialect));
}

function forAjv(schema: Record<string, unknown>, dialect: Dialect): Record<string, unknown> {
  const { id: _id, $id: _$id, ...rest } = schema;
  return { ...rest, $schema: CANONICAL_URI[dialect] };
}

/** Where a syntax error is; for a trailing comma, the comma itself rather than the bracket after it. */
function syntaxErrorPosition(text: string, e: JsonSyntaxError): { line: number; col: number } {
  if (!e.message.startsWith('trailing comma')) return { line: e.line, col: e.col };
  let i = e.offset - 1;
  while (i > 0 && ' \t\r\n'.includes(text[i] as string)) i--;
  if (text[i] !== ',') return { line: e.line, col: e.col };
  return jsonLocation(text, i);
}

type At = (pointer: string, message: string, where?: 'value' | 'key') => InputProblem;

/** One problem per offending node: Ajv reports an anyOf's every branch, which reads as noise. */
function metaProblems(errors: NonNullable<AjvMeta['errors']>, dialect: Dialect, schema: Record<string, unknown>, at: At): InputProblem[] {
  const byPath = new Map<string, typeof errors>();
  for (const e of errors) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  const out: InputProblem[] = [];
  for (const [pointer, group] of byPath) {
    const specific = group.filter((e) => !['anyOf', 'oneOf', 'allOf', 'not', 'if', '$ref'].includes(e.keyword));
    const chosen = specific.length ? specific : group;
    const enumError = chosen.find((e) => e.keyword === 'enum');
    let message: string;
    if (enumError) {
      const allowed = (enumError.params.allowedValues as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
      message = `must be one of ${allowed.join(', ')}`;
    } else if (chosen.every((e) => e.keyword === 'type')) {
      const types = chosen.flatMap((e) => String(e.params.type).split(','));
      message = `must be ${[...new Set(types)].join(' or ')}`;
    } else {
      message = [...new Set(chosen.map((e) => e.message ?? 'is invalid'))].join('; or ');
    }
    const found = valueAt(schema, pointer);
    const shown = found === undefined || (typeof found === 'object' && found !== null) ? '' : ` (found ${JSON.stringify(found)})`;
    out.push(at(pointer, `invalid ${dialect} schema: ${pointer || '(root)'} ${message}${shown}`));
  }
  return out;
}

/**
 * What the meta-schema cannot see: patterns that are not regular expressions, formats no
 * validator knows (Ajv would ignore them, so a typo such as "date_time" checks nothing), and
 * local $refs to nothing.
 */
function walkKeywords(schema: Record<string, unknown>, dialect: Dialect, formats: string[], at: At): InputProblem[] {
  const problems: InputProblem[] = [];
  const refs: { pointer: string; ref: string }[] = [];
  let nestedIds = false;
  // `names`: the keys of this object are names (of properties, definitions), not keywords.
  const walk = (node: unknown, pointer: string, names = false): void => {
    if (Array.isArray(node)) return node.forEach((item, i) => walk(item, `${pointer}/${i}`));
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      const p = `${pointer}/${pointerToken(key)}`;
      if (names) {
        walk(value, p);
        continue;
      }
      if (DATA_KEYWORDS.has(key)) continue;
      if (key === 'pattern' && typeof value === 'string') {
        const bad = regexError(value);
        if (bad) problems.push(at(p, `pattern is not a valid regular expression: ${bad}`));
      } else if (key === 'patternProperties' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        for (const name of Object.keys(value)) {
          const bad = regexError(name);
          if (bad) problems.push(at(`${p}/${pointerToken(name)}`, `patternProperties key is not a valid regular expression: ${bad}`, 'key'));
        }
      } else if (key === 'format' && typeof value === 'string' && !formats.includes(value)) {
        problems.push(at(p, `unknown format "${value}"; known: ${formats.join(', ')}`));
      } else if (key === '$ref' && typeof value === 'string') {
        refs.push({ pointer: p, ref: value });
      } else if ((key === '$id' || (key === 'id' && dialect === 'draft-04')) && typeof value === 'string' && pointer !== '') {
        nestedIds = true;
      }
      walk(value, p, NAME_MAPS.has(key));
    }
  };
  walk(schema, '');
  // A nested id changes what "#/..." means below it; leave those to Ajv.
  if (!nestedIds) {
    for (const { pointer, ref } of refs) {
      if (!ref.startsWith('#/') && ref !== '#') continue;
      let target: string;
      try {
        target = decodeURIComponent(ref.slice(1));
      } catch {
        problems.push(at(pointer, `$ref "${ref}" is not a valid URI fragment`));
        continue;
      }
      if (valueAt(schema, target) === undefined) problems.push(at(pointer, `$ref "${ref}" points to nothing in this file`));
    }
  }
  return problems;
}

/** The seed's envelope: `properties` declares all five fields and `required` lists them. */
function envelopeProblems(schema: Record<string, unknown>, at: At): InputProblem[] {
  const problems: InputProblem[] = [];
  const props = schema.properties;
  if (props === undefined) {
    problems.push(at('', `the event envelope is missing: no "properties" (expected ${ENVELOPE.join(', ')})`));
  } else if (props !== null && typeof props === 'object' && !Array.isArray(props)) {
    const missing = ENVELOPE.filter((name) => !(name in props));
    if (missing.length) problems.push(at('/properties', `the event envelope lacks ${missing.join(', ')} in "properties"`, 'key'));
  }
  const required = schema.required;
  if (required === undefined) {
    problems.push(at('', `the event envelope is not required: no "required" (expected ${ENVELOPE.join(', ')})`));
  } else if (Array.isArray(required)) {
    const missing = ENVELOPE.filter((name) => !required.includes(name));
    if (missing.length) problems.push(at('/required', `"required" does not list ${missing.join(', ')} of the event envelope`, 'key'));
  }
  return problems;
}

function regexError(source: string): string | undefined {
  try {
    new RegExp(source, 'u');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The value at a JSON Pointer, or undefined. */
function valueAt(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let cur: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object' || !Object.prototype.hasOwnProperty.call(cur, token)) return undefined;
    cur = (cur as Record<string, unknown>)[token];
  }
  return cur;
}

/** Where the $ref that Ajv could not resolve is written ("" when it cannot be found). */
function refPointer(schema: unknown, missing: string): string {
  let found = '';
  const walk = (node: unknown, pointer: string): void => {
    if (found || node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      const p = `${pointer}/${pointerToken(key)}`;
      if (key === '$ref' && typeof value === 'string' && value !== '' && (value === missing || missing.endsWith(value))) {
        found = p;
        return;
      }
      walk(value, p);
    }
  };
  walk(schema, '');
  return found;
}
