import { describe, expect, it } from 'vitest';
import { checkRef, expandDeep, expandString, scanTemplates, UnresolvedTemplateError } from '../../src/playbook/template.js';

const values = { params: { topic: 'orders', n: 3 }, env: { HOME: '/h' }, steps: { a: { outputs: { id: 7 } } } };
const scope = { params: new Set(['topic', 'n']), env: new Set(['HOME']), steps: new Set(['a']) };

describe('templates', () => {
  it('interpolates lookups into text and keeps the type of a whole-string template', () => {
    expect(expandString('datarep.${{ params.topic }}', values)).toBe('datarep.orders');
    expect(expandString('${{params.n}}', values)).toBe(3);
    expect(expandString('${{ steps.a.outputs.id }}/${{ env.HOME }}', values)).toBe('7//h');
  });

  it('rejects anything that is not a dotted lookup', () => {
    for (const bad of ['${{ 1 + 2 }}', '${{ params.topic || "x" }}', '${{ }}', '${{ fn() }}', 'x ${{ params.topic']) {
      expect(scanTemplates(bad).errors, bad).toHaveLength(1);
    }
  });

  it('checks references against what the playbook declares', () => {
    const ref = (t: string) => scanTemplates(t).refs[0]!;
    expect(checkRef(ref('${{ params.topic }}'), scope)).toBeUndefined();
    expect(checkRef(ref('${{ params.nope }}'), scope)).toMatch(/unknown param "nope"/);
    expect(checkRef(ref('${{ env.PATH }}'), scope)).toMatch(/not declared/);
    expect(checkRef(ref('${{ steps.b.outputs.x }}'), scope)).toMatch(/does not come before/);
    expect(checkRef(ref('${{ secrets.x }}'), scope)).toMatch(/must start with/);
  });

  it('keeps values inert: a value containing a template is not expanded again', () => {
    const v = { params: { evil: '${{ env.HOME }}', shell: '$(rm -rf /); `id`' }, env: { HOME: '/h' }, steps: {} };
    expect(expandString('x-${{ params.evil }}', v)).toBe('x-${{ env.HOME }}');
    expect(expandString('${{ params.shell }}', v)).toBe('$(rm -rf /); `id`');
  });

  it('never reads inherited properties such as __proto__ or constructor', () => {
    expect(() => expandString('${{ params.__proto__ }}', values)).toThrow(UnresolvedTemplateError);
    expect(() => expandString('${{ params.constructor }}', values)).toThrow(UnresolvedTemplateError);
    const out = expandDeep({ ['__proto__']: 'x', a: ['${{ params.topic }}'] }, values) as Record<string, unknown>;
    expect(out.a).toEqual(['orders']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});
