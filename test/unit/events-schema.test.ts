import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { compileSchema } from '../../src/schema/validate.js';

const root = new URL('../../', import.meta.url);

interface EventDef {
  properties: Record<string, unknown>;
  required: string[];
  additionalProperties: boolean;
}

async function schema(): Promise<{ oneOf: { $ref: string }[]; $defs: Record<string, EventDef> }> {
  return JSON.parse(await readFile(new URL('docs/events.schema.json', root), 'utf8'));
}

/** Each member of the RunEvent union in src/engine/events.ts: its type, and its fields (optional or not). */
async function eventsInCode(): Promise<Map<string, { required: string[]; optional: string[] }>> {
  const text = await readFile(new URL('src/engine/events.ts', root), 'utf8');
  const union = /export type RunEvent =([\s\S]*?);\n/.exec(text)?.[1] ?? '';
  const out = new Map<string, { required: string[]; optional: string[] }>();
  for (const member of union.matchAll(/\|\s*\{([^{}]*)\}/g)) {
    const body = member[1] as string;
    const type = /type: '([^']+)'/.exec(body)?.[1];
    if (!type) continue;
    const fields = [...body.matchAll(/(\w+)(\??):/g)].map((m) => ({ name: m[1] as string, optional: m[2] === '?' }));
    out.set(type, { required: fields.filter((f) => !f.optional).map((f) => f.name), optional: fields.filter((f) => f.optional).map((f) => f.name) });
  }
  return out;
}

describe('docs/events.schema.json against src/engine/events.ts', () => {
  it('has one definition per event type, listed in oneOf, with the same fields (plus at), required as in the code', async () => {
    const s = await schema();
    const code = await eventsInCode();
    expect(code.size).toBeGreaterThan(5);
    const listed = s.oneOf.map((r) => r.$ref.replace('#/$defs/', ''));
    expect(new Set(listed)).toEqual(new Set(code.keys()));
    for (const [type, fields] of code) {
      const def = s.$defs[type] as EventDef;
      expect(def, type).toBeDefined();
      expect(new Set(Object.keys(def.properties)), type).toEqual(new Set([...fields.required, ...fields.optional, 'at']));
      expect(new Set(def.required), type).toEqual(new Set([...fields.required, 'at']));
      expect(def.additionalProperties, type).toBe(false);
    }
  });

  it('is a valid 2020-12 schema that accepts a well-formed event and rejects a malformed one', async () => {
    const validate = await compileSchema((await schema()) as unknown as Record<string, unknown>);
    const at = '2026-11-25T15:33:13.497Z';
    expect(validate({ type: 'step.done', run: 'r', step: 's', summary: 'ok', durationMs: 12, at })).toEqual([]);
    expect(validate({ type: 'step.done', run: 'r', step: 's', summary: 'ok', durationMs: 12 })).not.toEqual([]); // no at
    expect(validate({ type: 'step.done', run: 'r', step: 's', summary: 'ok', durationMs: 12, at, extra: 1 })).not.toEqual([]);
    expect(validate({ type: 'step.exploded', run: 'r', at })).not.toEqual([]);
  });
});
