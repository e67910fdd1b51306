import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { FileRunStore } from '../../src/state/file-store.js';
import { assertRunName, isValidRunName } from '../../src/state/run-name.js';

describe('the run-name rule', () => {
  it('takes plain names of at most 128 characters, and nothing that could leave the state directory', () => {
    for (const ok of ['sync-to-async-orders', 'a', 'A.b_c-1', 'x'.repeat(128)]) expect(isValidRunName(ok), ok).toBe(true);
    for (const bad of ['', '../evil', 'a/b', 'a..b', '.hidden', '-x', 'x'.repeat(129), '%2e%2e%2fevil', 'ünï']) expect(isValidRunName(bad), bad).toBe(false);
  });

  it('refuses a bad name with one message and one hint, wherever it is met (engine or store)', () => {
    const refusal = (fn: () => unknown): UsageError => {
      try {
        fn();
      } catch (err) {
        return err as UsageError;
      }
      throw new Error('expected a refusal');
    };
    const fromRule = refusal(() => assertRunName('../evil'));
    const fromStore = refusal(() => new FileRunStore('/nowhere').statePath('../evil'));
    expect(fromRule).toBeInstanceOf(UsageError);
    expect(fromRule.message).toBe('"../evil" is not a valid run name');
    expect(fromRule.hint).toBe('run names use letters, digits, ".", "-" and "_" (at most 128)');
    expect({ message: fromStore.message, hint: fromStore.hint }).toEqual({ message: fromRule.message, hint: fromRule.hint });
    expect(assertRunName('orders')).toBe('orders');
  });
});
