/**
 * kafka.verify's `completeness`: the operations a source says it performed in a window, each
 * matched with the events verify read (by operationKey). The contract (docs/steps/kafka.verify.md):
 *
 *   GET <url>?from=<ISO 8601>&to=<ISO 8601>   [Authorization: Bearer <token>]
 *   200 {"operations": [{"key": <value> | [<value>, ...], "at": "<ISO 8601>"}, ...]}
 *
 * `key` holds the values of the operationKey pointers, in their order (one value may stand
 * without the array); `at` is when the source performed it, for messages. Operations from `from`
 * (inclusive) to `to` (exclusive).
 */
import { z } from 'zod';
import { HttpUnreachableError, httpRequest, isRetryableStatus } from '../adapters/http.js';
import { TransientError } from '../errors.js';
import { hashId } from '../util/seen-ids.js';
import { operationText } from './event-checks.js';

/** One operation the source performed. */
export interface SourceOperation {
  /** The operationKey values, in the pointers' order. */
  values: unknown[];
  at?: string;
}

const listing = z.object({
  operations: z.array(
    z.object({
      key: z.unknown().refine((k) => k !== undefined && k !== null, 'key is required'),
      at: z.string().optional(),
    }),
  ),
});

/** Reads the contract's answer; throws a one-line error naming what is wrong with it. */
export function parseOperations(text: string, keyLength: number): SourceOperation[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error('is not JSON');
  }
  const parsed = listing.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`is not {"operations":[{"key":...,"at":"..."}]}: ${issue ? `${issue.path.join('.') || '(top)'}: ${issue.message}` : 'invalid'}`);
  }
  return parsed.data.operations.map((o, i) => {
    const values = Array.isArray(o.key) ? o.key : [o.key];
    if (values.length !== keyLength) throw new Error(`operations.${i}.key has ${values.length} value(s), operationKey has ${keyLength} pointer(s)`);
    return { values, ...(o.at !== undefined ? { at: o.at } : {}) };
  });
}

/** For each operation hashed by hashId(operationText(values)) (h1, h2 pairs), 1 when it was among the events read. */
export type OperationLookup = (hashes: Uint32Array) => Promise<Uint8Array>;

/**
 * The operations with no event among those read, in the source's order; an operation the source
 * lists twice is judged once. One lookup for all (the table may have to read its runs from disk).
 */
export async function missingOperations(operations: readonly SourceOperation[], seen: OperationLookup): Promise<SourceOperation[]> {
  const judged = new Set<string>();
  const unique: SourceOperation[] = [];
  for (const op of operations) {
    const text = operationText(op.values);
    if (judged.has(text)) continue;
    judged.add(text);
    unique.push(op);
  }
  const hashes = new Uint32Array(2 * unique.length);
  unique.forEach((op, i) => hashId(operationText(op.values), hashes, 2 * i));
  const found = await seen(hashes);
  return unique.filter((_, i) => !found[i]);
}

/** What to ask the source for. */
export interface OperationsRequest {
  url: string;
  /** Sent as Authorization: Bearer; never in a message. */
  token?: string | undefined;
  from: Date;
  to: Date;
  keyLength: number;
  signal?: AbortSignal;
}

/** Asks the source for its operations in [from, to). Unreachable or 5xx/429: TransientError (the step retries); any other answer: Error. */
export async function fetchOperations(r: OperationsRequest): Promise<SourceOperation[]> {
  const url = new URL(r.url);
  url.searchParams.set('from', r.from.toISOString());
  url.searchParams.set('to', r.to.toISOString());
  const shown = `${url.origin}${url.pathname}`;
  let res;
  try {
    res = await httpRequest({ url: url.href, method: 'GET', timeoutMs: 10_000, ...(r.token ? { headers: { authorization: `Bearer ${r.token}` } } : {}), ...(r.signal ? { signal: r.signal } : {}) });
  } catch (err) {
    if (err instanceof HttpUnreachableError) throw new TransientError(`completeness: the source's operations endpoint ${shown} is unreachable: ${err.message}`, { cause: err });
    throw err;
  }
  if (isRetryableStatus(res.status)) throw new TransientError(`completeness: the source's operations endpoint ${shown} answered ${res.status}`);
  if (res.status !== 200) throw new Error(`completeness: the source's operations endpoint ${shown} answered ${res.status}${res.status === 401 || res.status === 403 ? ' (check completeness.token)' : ''}`);
  try {
    return parseOperations(res.text, r.keyLength);
  } catch (err) {
    throw new Error(`completeness: the answer of ${shown} ${(err as Error).message}`);
  }
}
