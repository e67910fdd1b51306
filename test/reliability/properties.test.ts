// Property-based tests (fast-check): the playbook loader takes any text and any JSON-ish value
// rendered to YAML, and either returns or throws InvalidInputError/UsageError, never anything
// else, never hangs; templates are lookups that never re-expand a value, never read an
// inherited property, and never leave "${{" behind unless a value brought it.
import fc from 'fast-check';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { InvalidInputError, UsageError } from '../../src/errors.js';
import { bindPlaybook } from '../../src/playbook/bind.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { expandDeep, expandString, scanTemplates, UnresolvedTemplateError, type TemplateValues } from '../../src/playbook/template.js';
import { stepTypes } from '../../src/steps/index.js';
import { report } from './figures.js';

const SEED = Number(process.env.PROPERTY_SEED ?? Date.now() % 1_000_000);
const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();

afterAll(() => {
  // Nothing a playbook says may reach Object.prototype.
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

/** Names that reach into prototypes when a lookup is careless. */
const DANGEROUS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'polluted'];
const name = fc.oneof(fc.constantFrom(...DANGEROUS, 'topic', 'group', 'a', 'b'), fc.string({ maxLength: 12 }));
const identifier = fc.oneof(fc.constantFrom(...DANGEROUS, 'topic', 'a', 'b'), fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,8}$/));

/** Text biased towards playbook YAML: its keys, step types, templates, anchors, odd characters. */
const yamlish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'name: x', 'name: 5', 'steps:', '  - id: a', '    uses: confirm', '    uses: kafka.topic', '    with:', '      message: hi',
        '      name: "datarep.${{ params.topic }}"', '      partitions: ${{ params.n }}', 'params:', '  topic: { required: true }',
        '  n: { default: "3" }', '  __proto__: { polluted: yes }', 'constructor: { prototype: { polluted: yes } }', 'env: [HOME]',
        '    timeout: 10s', '    retries: 99', '&a [1, 2]', '*a', '<<: *a', '!!binary aGk=', '!!set {a, b}', '? [a]', ': b', '---', '...',
        '%YAML 1.2', '"unclosed', "'x'", '{', '}', '[', ']', '${{', '}}', '\t', '\u00a0', '\ufeff', '\u202e', '\u0000', '#',
        '    with: &w { message: *w }', '    with: { message: *nowhere }', '      message: &m [*m]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
        'c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
      ),
      fc.string({ maxLength: 20 }),
    ),
    { maxLength: 30 },
  )
  .map((lines) => lines.join('\n'));

/** JSON-ish values shaped like playbooks, with wrong types, unknown keys and dangerous names mixed in. */
const { value: jsonish } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(name, tie('value'), { maxKeys: 4 }),
  ),
}));
const template = fc.oneof(
  fc.constantFrom('${{ params.topic }}', '${{ params.__proto__ }}', '${{ env.HOME }}', '${{ steps.a.outputs.x }}', '${{ params.topic | upper }}', '${{ }}', '${{', 'plain'),
  identifier.map((n) => `\${{ params.${n} }}`),
);
const stepLike = fc.record(
  {
    id: fc.oneof(fc.constantFrom('a', 'b', 'create-topic'), fc.string({ maxLength: 8 })),
    uses: fc.oneof(fc.constantFrom(...stepTypes.keys()), fc.string({ maxLength: 12 })),
    title: template,
    with: fc.oneof(fc.dictionary(name, fc.oneof(template, jsonish), { maxKeys: 5 }), jsonish),
    timeout: fc.oneof(fc.constantFrom('10s', '1m', 0, -1, 'soon'), jsonish),
    retries: fc.oneof(fc.integer({ min: -2, max: 30 }), jsonish),
  },
  { requiredKeys: ['id', 'uses'] },
);
const playbookLike = fc.record(
  {
    name: fc.oneof(fc.constantFrom('x', 'sync-to-async'), jsonish),
    description: jsonish,
    params: fc.oneof(
      fc.dictionary(
        identifier,
        fc.record({ required: fc.oneof(fc.boolean(), jsonish), default: fc.oneof(template, jsonish), enum: jsonish, secret: fc.boolean() }, { requiredKeys: [] }),
        { maxKeys: 4 },
      ),
      jsonish,
    ),
    env: fc.oneof(fc.array(identifier, { maxLength: 3 }), jsonish),
    steps: fc.oneof(fc.array(stepLike, { maxLength: 4 }), jsonish),
    extra: jsonish,
  },
  { requiredKeys: ['steps'] },
);

interface LoaderRun {
  cases: number;
  crashes: { input: string; error: string }[];
  slowestMs: number;
}

/** Loads (and, when that works, binds) each input; anything but a domain error is a crash. */
function loaderProperty(arb: fc.Arbitrary<string>, numRuns: number, given: fc.Arbitrary<Record<string, string>>): LoaderRun {
  const run: LoaderRun = { cases: 0, crashes: [], slowestMs: 0 };
  fc.assert(
    fc.property(arb, given, (text, params) => {
      run.cases += 1;
      const started = performance.now();
      try {
        const loaded = parsePlaybook('pb.yaml', text);
        bindPlaybook(loaded, params, { HOME: '/home/x' });
      } catch (err) {
        if (!(err instanceof InvalidInputError || err instanceof UsageError)) {
          run.crashes.push({ input: text.slice(0, 500), error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
        }
      } finally {
        run.slowestMs = Math.max(run.slowestMs, performance.now() - started);
      }
    }),
    { numRuns, seed: SEED },
  );
  return run;
}

const givenParams = fc.dictionary(identifier, fc.string({ maxLength: 20 }), { maxKeys: 3 });

describe('property: the playbook loader', () => {
  it('takes any text, any YAML-ish text and any playbook-shaped value: it returns or throws a domain error', (ctx) => {
    const runs = [
      loaderProperty(fc.string({ unit: 'binary', maxLength: 400 }), 500, givenParams),
      loaderProperty(fc.string({ unit: 'grapheme', maxLength: 400 }), 300, givenParams),
      loaderProperty(yamlish, 700, givenParams),
      loaderProperty(jsonish.map((v) => stringify(v)), 200, givenParams),
      loaderProperty(playbookLike.map((v) => stringify(v, { aliasDuplicateObjects: false })), 800, givenParams),
    ];
    const crashes = runs.flatMap((r) => r.crashes);
    const slowestMs = Math.max(...runs.map((r) => r.slowestMs));
    report(ctx, 'property: playbook loader', { cases: runs.reduce((n, r) => n + r.cases, 0), crashes: crashes.length, 'slowest case ms': Math.round(slowestMs), seed: SEED });
    expect(crashes.slice(0, 5), `seed ${SEED}`).toEqual([]);
    // "never hangs": no input takes long (the largest is a few hundred bytes).
    expect(slowestMs).toBeLessThan(2_000);
  });
});

/** Values whose lookups are own properties only, as the engine builds them. */
function values(params: Record<string, string>): TemplateValues {
  const own: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) Object.defineProperty(own, k, { value: v, enumerable: true, writable: true, configurable: true });
  return { params: own, env: {}, steps: {} };
}

/** Literal text that holds no template. */
const literal = fc.string({ maxLength: 15 }).filter((s) => !s.includes('${{'));
/** Any text, often holding templates of its own. */
const valueText = fc.oneof(fc.string({ maxLength: 20 }), template, fc.tuple(literal, template, literal).map((p) => p.join('')));

describe('property: templates', () => {
  const results: { name: string; runs: number; failed: boolean; counterexample?: string }[] = [];
  const check = <T>(what: string, arb: fc.Arbitrary<T>, predicate: (v: T) => boolean | void, numRuns = 1000) => {
    const r = fc.check(fc.property(arb, predicate), { numRuns, seed: SEED });
    results.push({ name: what, runs: r.numRuns, failed: r.failed, ...(r.failed ? { counterexample: `${fc.stringify(r.counterexample)}: ${String(r.errorInstance)}` } : {}) });
    return r;
  };

  it('values are never re-expanded', () => {
    const r = check('no re-expansion', fc.tuple(literal, valueText, literal, valueText), ([pre, a, post, b]) => {
      const out = expandString(`${pre}\${{ params.a }}${post}\${{ params.b }}`, values({ a, b, x: 'EXPANDED' }));
      expect(out).toBe(`${pre}${a}${post}${b}`);
      // A whole-string template keeps the value as it is, templates and all.
      expect(expandString('${{ params.a }}', values({ a }))).toBe(a);
    });
    expect(r.failed, fc.defaultReportMessage(r)).toBe(false);
  });

  it('params defaults that read other params do not re-expand what they read', () => {
    const r = check(
      'defaults do not re-expand',
      valueText,
      (v) => {
        const loaded = parsePlaybook('pb.yaml', 'name: x\nparams:\n  a: { required: true }\n  b: { default: "<${{ params.a }}>" }\n  x: { default: EXPANDED }\nsteps:\n  - id: s\n    uses: confirm\n    with: { message: "${{ params.b }}" }\n');
        const bound = bindPlaybook(loaded, { a: v });
        expect(bound.params.b).toBe(`<${v}>`);
        expect((bound.steps[0]?.params as { message: string }).message).toBe(`<${v}>`);
      },
      300,
    );
    expect(r.failed, fc.defaultReportMessage(r)).toBe(false);
  });

  it('lookups of __proto__, constructor, prototype and the like never read inherited properties', () => {
    const r = check('no inherited lookups', fc.tuple(fc.constantFrom('params', 'env', 'steps'), fc.array(identifier, { minLength: 1, maxLength: 3 })), ([root, path]) => {
      const text = `\${{ ${[root, ...path].join('.')} }}`;
      const v: TemplateValues = { params: { topic: 'orders', a: 'x' }, env: { HOME: '/home/x' }, steps: { a: { outputs: { x: 'out' } } } };
      let got: unknown;
      try {
        got = expandString(text, v);
      } catch (err) {
        expect(err).toBeInstanceOf(UnresolvedTemplateError);
        return;
      }
      // Found: it must be an own property all the way down, never a function from a prototype.
      let cur: unknown = v;
      for (const key of [root, ...path]) {
        expect(Object.hasOwn(cur as object, key)).toBe(true);
        cur = (cur as Record<string, unknown>)[key];
      }
      expect(got).toBe(cur);
      expect(typeof got).not.toBe('function');
    });
    expect(r.failed, fc.defaultReportMessage(r)).toBe(false);
  });

  it('expandDeep keeps dangerous keys as plain own keys and pollutes nothing', () => {
    const r = check('expandDeep keys', jsonish, (value) => {
      const out = expandDeep(value, values({ topic: 'orders' }));
      expect(JSON.stringify(out)).toBe(JSON.stringify(value));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
    expect(r.failed, fc.defaultReportMessage(r)).toBe(false);
  });

  it('the output has no "${{" unless a value brought one', () => {
    const names = ['a', 'b', 'topic'];
    const piece = fc.oneof(literal, fc.constantFrom(...names).map((n) => `\${{ params.${n} }}`));
    const r = check(
      'no template left behind',
      fc.tuple(fc.array(piece, { maxLength: 6 }), fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }))),
      ([pieces, [a, b, topic]]) => {
        const text = pieces.join('');
        // Literal pieces may join into a template ("$" + "{{ ..."): only well-formed input counts.
        if (scanTemplates(text).errors.length) return;
        let out: unknown;
        try {
          out = expandDeep({ text, list: [text], nested: { text } }, values({ a, b, topic }));
        } catch (err) {
          // Literal pieces may also join into a reference to a param that has no value.
          if (err instanceof UnresolvedTemplateError) return;
          throw err;
        }
        const fromValues = [a, b, topic].some((v) => v.includes('${{') || v.includes('$') || v.includes('{'));
        if (!fromValues) expect(JSON.stringify(out)).not.toContain('${{');
      },
    );
    expect(r.failed, fc.defaultReportMessage(r)).toBe(false);
  });

  it('scanTemplates takes any text: refs in order, each the exact slice it names', () => {
    const r = check('scanTemplates is total', fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), valueText), (text) => {
      const { refs, errors } = scanTemplates(text);
      let last = 0;
      for (const ref of refs) {
        expect(ref.start).toBeGreaterThanOrEqual(last);
        expect(text.slice(ref.start, ref.end)).toBe(ref.text);
        last = ref.end;
      }
      for (const e of errors) expect(e.offset).toBeLessThan(text.length);
      if (!text.includes('${{')) expect(expandString(text, values({}))).toBe(text);
    });
    expect(r.failed, fc.defaultReportMessage(r)).toBe(false);
  });

  it('reports its figures', (ctx) => {
    report(ctx, 'property: templates', {
      properties: results.length,
      cases: results.reduce((n, r) => n + r.runs, 0),
      violations: results.filter((r) => r.failed).length,
      seed: SEED,
    });
    expect(results.filter((r) => r.failed)).toEqual([]);
  });
});
