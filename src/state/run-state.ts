import { z } from 'zod';
import { InvalidInputError } from '../errors.js';
import { JsonPositions, parseJsonInput, pointerToken } from '../util/json.js';

/** Status of a whole run. */
export const runStatuses = ['running', 'paused', 'failed', 'completed', 'rolled-back'] as const;
export type RunStatus = (typeof runStatuses)[number];

/** Status of one step. */
export const stepStatuses = ['pending', 'running', 'waiting', 'done', 'failed', 'skipped'] as const;
export type StepStatus = (typeof stepStatuses)[number];

const approvalSchema = z.object({ by: z.string(), via: z.enum(['--approve', '--yes', 'prompt', 'dashboard']), at: z.string() });

/** A person's decision to skip a step (--skip STEP --reason "..."): who, why, when. */
const skipSchema = z.object({ by: z.string(), reason: z.string(), at: z.string() });

const stepStateSchema = z.object({
  id: z.string(),
  uses: z.string(),
  status: z.enum(stepStatuses),
  attempts: z.number().int().min(0),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  outputs: z.record(z.string(), z.unknown()).optional(),
  /**
   * What the step's check saw just before apply changed the world (flag.set: the flag's previous
   * value), saved before apply runs: a process killed after apply but before the step is done
   * still leaves rollback what it needs. Folded into outputs when the step is done.
   */
  before: z.record(z.string(), z.unknown()).optional(),
  summary: z.string().optional(),
  error: z.object({ message: z.string(), causes: z.array(z.string()) }).optional(),
  approval: approvalSchema.optional(),
  skip: skipSchema.optional(),
});

/** One entry of a run's audit trail: what happened, when, to which step. */
const historyEntrySchema = z.object({
  at: z.string(),
  /** The event type, as in the --json stream (step.applied, gate.approved, step.progress, ...). */
  type: z.string(),
  step: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
});

/** The persisted state of one run. It never holds secrets. */
export const runStateSchema = z.object({
  version: z.literal(1),
  name: z.string(),
  playbook: z.object({ name: z.string(), ref: z.string(), file: z.string(), checksum: z.string() }),
  params: z.record(z.string(), z.string()),
  paramsChecksum: z.string(),
  status: z.enum(runStatuses),
  /** Why the run is paused: the gate it waits at, or "interrupted". */
  pausedAt: z.string().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  steps: z.array(stepStateSchema),
  /** The audit trail (approvals, flag flips, lag samples, failures), oldest first, bounded. */
  history: z.array(historyEntrySchema).default([]),
});

export type RunState = z.infer<typeof runStateSchema>;
export type StepState = z.infer<typeof stepStateSchema>;
export type Approval = z.infer<typeof approvalSchema>;
export type Skip = z.infer<typeof skipSchema>;
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

const BAD_STATE_HINT = 'restore it from a backup or move it away to start the run again';

/** Parses a run state (a state file, a record of the Kafka store), reporting JSON and shape errors with file:line:col. */
export function parseRunState(file: string, text: string): RunState {
  const raw = parseJsonInput(file, text, 'state file', BAD_STATE_HINT);
  const parsed = runStateSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.join('.') || '(top level)';
    const pos = JsonPositions.of(text).value((issue?.path ?? []).map((k) => `/${pointerToken(String(k))}`).join(''));
    throw new InvalidInputError([{ file, ...pos, message: `state file has a bad value at ${at}: ${issue?.message}` }], BAD_STATE_HINT);
  }
  return parsed.data;
}
