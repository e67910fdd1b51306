import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The seed's ExerciseCompleted schema (draft-04), trailing comma fixed: the project's own copy. */
export const exerciseCompletedSchema = JSON.parse(
  readFileSync(new URL('../../examples/schemas/ExerciseCompleted/0.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

/** ExerciseCompleted v1 (examples/schemas/ExerciseCompleted/1.json): the payload gains a required score, author_id becomes optional. */
export const exerciseCompletedSchemaV1 = JSON.parse(
  readFileSync(new URL('../../examples/schemas/ExerciseCompleted/1.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

/** A valid v1 event for record `id`. */
export function exerciseEventV1(id: string, eventId: string = crypto.randomUUID(), score = 90) {
  return { ...exerciseEvent(id, eventId), event_version: 1, payload: { ...exerciseRecord(id), score } };
}

/** A valid event for record `id`, as the sync endpoint would return it. */
export function exerciseRecord(id: string) {
  return { exercise_id: id, title: `Exercise ${id}`, author_id: `author-${id}`, candidate_id: `cand-${id}`, completed_at: '2026-11-25T00:00:00.000Z' };
}

export function exerciseEvent(id: string, eventId: string = crypto.randomUUID()) {
  return { event_id: eventId, event_version: 0, event_name: 'ExerciseCompleted', produced_at: new Date().toISOString(), payload: exerciseRecord(id) };
}

/** Registers ExerciseCompleted v0 and v1 in the directory registry of `cwd` (schemas/ExerciseCompleted/<v>.json). */
export async function writeExerciseSchemas(cwd: string): Promise<void> {
  await mkdir(path.join(cwd, 'schemas/ExerciseCompleted'), { recursive: true });
  for (const [v, schema] of [exerciseCompletedSchema, exerciseCompletedSchemaV1].entries()) {
    await writeFile(path.join(cwd, `schemas/ExerciseCompleted/${v}.json`), JSON.stringify(schema));
  }
}
