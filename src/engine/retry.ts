import { DriftError, isTransient } from '../errors.js';
import { abortable, sleep } from '../util/time.js';
import type { EventSink } from './events.js';

/** The longest wait before a retry, however many failures came before it. */
const MAX_DELAY_MS = 10_000;
/** Retries in a row when the step does not say (`retries:` in the playbook). */
const DEFAULT_RETRIES = 5;
/** Base of the backoff when the caller does not say (tests shorten it). */
const DEFAULT_BASE_MS = 500;

/** The wait before retry number `retry` (1-based): doubling from `baseMs`, at most 10s. */
export function backoffMs(baseMs: number, retry: number): number {
  return Math.min(MAX_DELAY_MS, baseMs * 2 ** (retry - 1));
}

/** What the retry policy needs to know of one execution of a step (its converge, or its undo). */
export interface RetryOptions {
  run: string;
  /** The step's id, for the step.retry events. */
  step: string;
  /** Retries in a row: the step's `retries` (default 5). */
  retries?: number | undefined;
  /** No wait may end after this (ms since the epoch): the step's timeout, counted from its start. */
  deadline: number;
  now(): number;
  signal: AbortSignal;
  /** Hears each retry, as a step.retry event. */
  emit: EventSink;
  /** Base of the backoff, in ms (default 500). */
  baseMs?: number | undefined;
}

/**
 * The one retry policy of run and rollback: a call that fails with a transient error (a broker
 * that blinked) is tried again after a backoff, as long as the step's `retries` (5 by default) and
 * its deadline allow. Failures in a row are counted across the calls of one execution and start
 * again after a success. A DriftError, or any error that is not transient, fails at once.
 */
export function retrier(o: RetryOptions): <T>(fn: () => Promise<T>) => Promise<T> {
  const retries = o.retries ?? DEFAULT_RETRIES;
  let failures = 0;
  return async (fn) => {
    for (;;) {
      try {
        const value = await abortable(fn(), o.signal);
        failures = 0;
        return value;
      } catch (err) {
        if (err instanceof DriftError || !isTransient(err) || o.signal.aborted) throw err;
        failures += 1;
        const delayMs = backoffMs(o.baseMs ?? DEFAULT_BASE_MS, failures);
        if (failures > retries || o.now() + delayMs > o.deadline) throw err;
        o.emit({ type: 'step.retry', run: o.run, step: o.step, error: (err as Error).message, delayMs, retry: failures });
        await sleep(delayMs, o.signal);
      }
    }
  };
}
