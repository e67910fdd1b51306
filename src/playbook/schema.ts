import { z } from 'zod';
import { durationSchema } from '../util/duration-schema.js';

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** A declared playbook parameter. */
export const paramSpecSchema = z
  .object({
    description: z.string().optional(),
    required: z.boolean().optional(),
    default: scalar.optional(),
    enum: z.array(z.union([z.string(), z.number()])).min(1).optional(),
    /** Values of a secret param are never written to state, logs or --json. */
    secret: z.boolean().optional(),
  })
  .strict();

/** One step of a playbook. */
export const stepSpecSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, 'step ids use letters, digits, "-" and "_"'),
    title: z.string().optional(),
    description: z.string().optional(),
    uses: z.string(),
    with: z.record(z.string(), z.unknown()).optional(),
    timeout: durationSchema.optional(),
    interval: durationSchema.optional(),
    retries: z.number().int().min(0).max(20).optional(),
  })
  .strict();

/** A playbook file. */
export const playbookSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'playbook names use letters, digits, ".", "-" and "_"'),
    description: z.string().optional(),
    params: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'param names are plain identifiers'), paramSpecSchema).optional(),
    env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'env names are plain identifiers')).optional(),
    steps: z.array(stepSpecSchema).min(1, 'a playbook needs at least one step'),
  })
  .strict();

export type ParamSpec = z.infer<typeof paramSpecSchema>;
export type StepSpec = z.infer<typeof stepSpecSchema>;
export type PlaybookSpec = z.infer<typeof playbookSchema>;
