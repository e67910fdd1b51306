/**
 * JSON Schema validation, with the dialect chosen by the schema's own `$schema` (draft-04 like
 * the seed's, draft-06/07, 2019-09, 2020-12). Ajv is loaded on first use only.
 */

/** One way a value fails its schema. */
export interface SchemaIssue {
  /** JSON Pointer into the value, e.g. /payload/title ("" for the root). */
  path: string;
  /** JSON Pointer into the schema, e.g. #/properties/payload/required */
  schemaPath: string;
  message: string;
}

/** Checks one value; an empty list means valid. */
export type Validator = (value: unknown) => SchemaIssue[];

export type Dialect = 'draft-04' | 'draft-06' | 'draft-07' | '2019-09' | '2020-12';

/** The dialect a `$schema` URI names; draft-07 when absent; undefined when unknown. */
export function dialectOf(schema: Record<string, unknown>): Dialect | undefined {
  const uri = schema.$schema;
  if (uri === undefined) return 'draft-07';
  if (typeof uri !== 'string') return undefined;
  if (/json-schema\.org\/draft-04\/schema/.test(uri)) return 'draft-04';
  if (/json-schema\.org\/draft-06\/schema/.test(uri)) return 'draft-06';
  if (/json-schema\.org\/draft-07\/schema/.test(uri)) return 'draft-07';
  if (/json-schema\.org\/draft\/2019-09\/schema/.test(uri)) return '2019-09';
  if (/json-schema\.org\/draft\/2020-12\/schema/.test(uri)) return '2020-12';
  return undefined;
}

type AjvLike = {
  compile(schema: object): ((value: unknown) => boolean) & { errors?: { instancePath: string; schemaPath: string; message?: string }[] | null };
  validateSchema(schema: object): boolean | Promise<unknown>;
  errors?: { instancePath: string; message?: string }[] | null;
};

const instances = new Map<Dialect, Promise<AjvLike>>();

/** An Ajv instance for a dialect (one per process), with formats. */
export function ajvFor(dialect: Dialect): Promise<AjvLike> {
  let p = instances.get(dialect);
  if (!p) {
    p = makeAjv(dialect);
    instances.set(dialect, p);
  }
  return p;
}

async function makeAjv(dialect: Dialect): Promise<AjvLike> {
  const options = { allErrors: true, strict: false, validateFormats: true };
  let ajv: AjvLike;
  if (dialect === 'draft-04') {
    // CommonJS modules: `default` is module.exports, whose own `default` is the class again.
    const { default: m } = await import('ajv-draft-04');
    ajv = new m.default(options) as unknown as AjvLike;
  } else if (dialect === '2019-09') {
    const { default: m } = await import('ajv/dist/2019.js');
    ajv = new m.default(options) as unknown as AjvLike;
  } else if (dialect === '2020-12') {
    const { default: m } = await import('ajv/dist/2020.js');
    ajv = new m.default(options) as unknown as AjvLike;
  } else {
    const { default: m } = await import('ajv');
    const a = new m.default(options);
    if (dialect === 'draft-06') {
      const meta = (await import('ajv/dist/refs/json-schema-draft-06.json', { with: { type: 'json' } })).default;
      a.addMetaSchema(meta);
    }
    ajv = a as unknown as AjvLike;
  }
  const { default: formats } = await import('ajv-formats');
  (formats.default as unknown as (a: AjvLike) => void)(ajv);
  return ajv;
}

/** Compiles a schema into a validator. Throws when the schema itself is not valid for its dialect. */
export async function compileSchema(schema: Record<string, unknown>): Promise<Validator> {
  const dialect = dialectOf(schema);
  if (!dialect) throw new Error(`unknown $schema ${JSON.stringify(schema.$schema)}`);
  const ajv = await ajvFor(dialect);
  const { $id: _id, ...withoutId } = schema; // the same $id compiled twice would clash in the shared instance
  const validate = ajv.compile(withoutId);
  return (value) => {
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => ({ path: e.instancePath, schemaPath: e.schemaPath, message: e.message ?? 'invalid' }));
  };
}
