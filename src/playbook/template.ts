/**
 * `${{ path }}` templates: a lookup of params.*, env.* or steps.<id>.outputs.*, never code.
 * Anything that is not a dotted path of plain names is an error, found before a run starts.
 */

/** A template reference found in a string, with its offsets in that string. */
export interface TemplateRef {
  path: string[];
  text: string;
  start: number;
  end: number;
}

/** A malformed template, with its offset in the string. */
export interface TemplateSyntaxError {
  offset: number;
  message: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Finds every `${{ ... }}` in `text`; malformed ones are returned as errors. */
export function scanTemplates(text: string): { refs: TemplateRef[]; errors: TemplateSyntaxError[] } {
  const refs: TemplateRef[] = [];
  const errors: TemplateSyntaxError[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf('${{', from);
    if (start < 0) break;
    const close = text.indexOf('}}', start + 3);
    if (close < 0) {
      errors.push({ offset: start, message: 'unterminated template: "${{" without "}}"' });
      break;
    }
    const inner = text.slice(start + 3, close).trim();
    const end = close + 2;
    const path = inner.split('.');
    if (inner === '') {
      errors.push({ offset: start, message: 'empty template "${{ }}"' });
    } else if (!path.every((p) => NAME.test(p))) {
      errors.push({
        offset: start,
        message: `bad template "${text.slice(start, end)}": only a dotted lookup like params.topic is allowed`,
      });
    } else {
      refs.push({ path, text: text.slice(start, end), start, end });
    }
    from = end;
  }
  return { refs, errors };
}

/** What a template may refer to at a given point of a playbook. */
export interface TemplateScope {
  params: ReadonlySet<string>;
  env: ReadonlySet<string>;
  /** ids of the steps before the current one */
  steps: ReadonlySet<string>;
}

/** Why a reference is not allowed in this scope, or undefined when it is fine. */
export function checkRef(ref: TemplateRef, scope: TemplateScope): string | undefined {
  const [root, name, third] = ref.path;
  switch (root) {
    case 'params':
      if (ref.path.length !== 2) return `bad template "${ref.text}": expected params.<name>`;
      return scope.params.has(name as string) ? undefined : `unknown param "${name}" in ${ref.text}`;
    case 'env':
      if (ref.path.length !== 2) return `bad template "${ref.text}": expected env.<NAME>`;
      return scope.env.has(name as string)
        ? undefined
        : `env.${name} is not declared; list it under "env:" in the playbook to read it`;
    case 'steps':
      if (ref.path.length < 4 || third !== 'outputs') return `bad template "${ref.text}": expected steps.<id>.outputs.<name>`;
      return scope.steps.has(name as string) ? undefined : `"${ref.text}" refers to step "${name}", which does not come before this one`;
    default:
      return `bad template "${ref.text}": it must start with params., env. or steps.`;
  }
}

/** Values a template can read. Lookups use own properties only, so `__proto__` reads nothing. */
export interface TemplateValues {
  params: Record<string, unknown>;
  env: Record<string, string | undefined>;
  steps: Record<string, { outputs?: Record<string, unknown> } | undefined>;
}

function lookup(values: TemplateValues, path: string[]): { found: boolean; value?: unknown } {
  let cur: unknown = values;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, key)) return { found: false };
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur === undefined ? { found: false } : { found: true, value: cur };
}

/** A template whose value is not known (yet), e.g. an output of a step that has not run. */
export class UnresolvedTemplateError extends Error {
  readonly ref: string;
  constructor(ref: string) {
    super(`${ref} has no value`);
    this.name = 'UnresolvedTemplateError';
    this.ref = ref;
  }
}

/**
 * Expands templates in a string. A string that is exactly one template keeps the value's type;
 * otherwise values are interpolated as text. The result is never re-scanned, so a value that
 * itself contains "${{ }}" stays inert data.
 */
export function expandString(text: string, values: TemplateValues): unknown {
  const { refs } = scanTemplates(text);
  if (refs.length === 0) return text;
  const only = refs.length === 1 ? refs[0] : undefined;
  if (only && only.start === 0 && only.end === text.length) {
    const hit = lookup(values, only.path);
    if (!hit.found) throw new UnresolvedTemplateError(only.text);
    return hit.value;
  }
  let out = '';
  let at = 0;
  for (const ref of refs) {
    const hit = lookup(values, ref.path);
    if (!hit.found) throw new UnresolvedTemplateError(ref.text);
    out += text.slice(at, ref.start) + (typeof hit.value === 'string' ? hit.value : JSON.stringify(hit.value));
    at = ref.end;
  }
  return out + text.slice(at);
}

/** Expands templates in every string of a JSON-like value. */
export function expandDeep(value: unknown, values: TemplateValues): unknown {
  if (typeof value === 'string') return expandString(value, values);
  if (Array.isArray(value)) return value.map((v) => expandDeep(v, values));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, { value: expandDeep(v, values), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

/** True when any string inside `value` refers to a step output. */
export function refersToSteps(value: unknown): boolean {
  if (typeof value === 'string') return scanTemplates(value).refs.some((r) => r.path[0] === 'steps');
  if (Array.isArray(value)) return value.some(refersToSteps);
  if (value !== null && typeof value === 'object') return Object.values(value).some(refersToSteps);
  return false;
}
