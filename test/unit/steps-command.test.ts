import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeParams } from '../../src/commands/steps.js';
import { stepTypes } from '../../src/steps/index.js';

describe('describeParams: the params migrate steps shows, from a zod schema', () => {
  it('names, types, required, defaults and descriptions, on the input side', () => {
    const schema = z
      .object({
        topic: z.string().describe('the topic'),
        partitions: z.number().int().default(3),
        on: z.union([z.boolean(), z.enum(['on', 'off'])]),
        paths: z.array(z.string()).optional(),
        either: z.array(z.union([z.string(), z.number()])).optional(),
        timeout: z.string().transform((s) => s.length),
      })
      .strict();
    expect(describeParams(schema)).toEqual({
      params: [
        { name: 'topic', type: 'string', required: true, description: 'the topic' },
        { name: 'partitions', type: 'integer', required: false, default: 3 },
        { name: 'on', type: 'boolean | "on" | "off"', required: true },
        { name: 'paths', type: 'string[]', required: false },
        { name: 'either', type: '(string | number)[]', required: false },
        { name: 'timeout', type: 'string', required: true },
      ],
    });
  });

  it('a schema zod 4 cannot describe is said to be so, not a crash', () => {
    expect(describeParams({ safeParse: () => ({ success: true }) })).toEqual({ params: [], paramsNote: 'not a zod 4 schema (zod 3, or another library), so its params cannot be listed' });
    expect(describeParams(z.string())).toEqual({ params: [], paramsNote: 'the params are not an object of named fields' });
  });

  it('describes every built-in step type', () => {
    for (const t of stepTypes.values()) expect(describeParams(t.params).paramsNote, t.type).toBeUndefined();
  });
});
