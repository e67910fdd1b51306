/** The seed's ExerciseCompleted schema (draft-04), trailing comma fixed. */
export const exerciseCompletedSchema = {
  $schema: 'http://json-schema.org/draft-04/schema#',
  title: 'ExerciseCompleted',
  description: 'Initial json schema for exercise completed event',
  definitions: {
    payload: {
      type: 'object',
      properties: {
        exercise_id: { type: 'string' },
        title: { type: 'string' },
        author_id: { type: 'string' },
        candidate_id: { type: 'string' },
        completed_at: { type: 'string' },
      },
      required: ['exercise_id', 'title', 'author_id', 'candidate_id', 'completed_at'],
    },
  },
  type: 'object',
  properties: {
    event_id: { type: 'string' },
    event_version: { enum: [0] },
    event_name: { enum: ['ExerciseCompleted'] },
    produced_at: { type: 'string' },
    payload: { $ref: '#/definitions/payload' },
  },
  required: ['event_id', 'event_version', 'event_name', 'produced_at', 'payload'],
};

/** A valid event for record `id`, as the sync endpoint would return it. */
export function exerciseRecord(id: string) {
  return { exercise_id: id, title: `Exercise ${id}`, author_id: `author-${id}`, candidate_id: `cand-${id}`, completed_at: '2026-11-25T00:00:00.000Z' };
}

export function exerciseEvent(id: string, eventId: string = crypto.randomUUID()) {
  return { event_id: eventId, event_version: 0, event_name: 'ExerciseCompleted', produced_at: new Date().toISOString(), payload: exerciseRecord(id) };
}
