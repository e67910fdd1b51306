// kafka.verify's kind chooses its checks: parity for form, operationKey and completeness for func.
import { describe, expect, it } from 'vitest';
import { kafkaVerifyStep } from '../../src/steps/kafka-verify.js';

const given = {
  topic: 'datarep.exercises',
  event: 'ExerciseCompleted',
  versions: '1',
  operationKey: '/payload/exercise_id,/payload/candidate_id',
  completeness: { url: 'http://127.0.0.1:1/operations' },
  parity: { url: 'http://127.0.0.1:1/api/v0/exercises/{key}' },
};

describe('kafka.verify kind', () => {
  it('func checks operations twice and completeness, not parity', () => {
    const p = kafkaVerifyStep.params.parse({ ...given, kind: 'func' });
    const text = kafkaVerifyStep.describe(p);
    expect(text).toContain('no operation (/payload/exercise_id, /payload/candidate_id) twice');
    expect(text).toContain('an event for each operation the source lists');
    expect(text).not.toContain('parity');
  });

  it('form checks parity, not operations twice or completeness', () => {
    const p = kafkaVerifyStep.params.parse({ ...given, kind: 'form' });
    const text = kafkaVerifyStep.describe(p);
    expect(text).toContain('parity with the sync endpoint');
    expect(text).not.toContain('operation');
  });
});
