/**
 * The OpenFeature Remote Evaluation Protocol (OFREP) as an evaluation endpoint: what an
 * application using an OFREP provider (flagd, and other flag services that speak it) is served.
 * flag.set waits on it after a switch. Requests go through src/adapters/http.ts, which loads
 * undici on the first request only.
 */
import { TransientError } from '../errors.js';
import type { FlagEvaluator } from './flags.js';
import { httpRequest, isRetryableStatus } from './http.js';

/** One evaluation is small; a server that takes longer than this is treated as unreachable (and retried). */
const REQUEST_TIMEOUT_MS = 5_000;

/** The body of a 200 (evaluation success) or of an error answer, as far as we read it. */
interface OfrepAnswer {
  value?: unknown;
  reason?: string;
  errorCode?: string;
  errorDetails?: string;
}

/** An OFREP server answered in a way we cannot use and retrying will not change (not a 5xx). */
export class OfrepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OfrepError';
  }
}

export class OfrepEvaluator implements FlagEvaluator {
  readonly description: string;
  private readonly base: string;

  /**
   * @param url the server's base URL (flagd: http://host:8016); the OFREP paths are added to it.
   * @param token sent as `Authorization: Bearer <token>` when given; it never appears in a message.
   */
  constructor(
    url: string,
    private readonly token: string | undefined,
  ) {
    this.base = url.replace(/\/+$/, '');
    this.description = `OFREP at ${this.base}`;
  }

  /**
   * POST {url}/ofrep/v1/evaluate/flags/{key} with an empty context: what an application with no
   * targeting attributes is served. A flag the server does not know (404, FLAG_NOT_FOUND) is
   * undefined; a disabled flag (flagd: 200, reason DISABLED, no value) is served no value.
   */
  async evaluate(key: string): Promise<{ value: unknown } | undefined> {
    const url = `${this.base}/ofrep/v1/evaluate/flags/${encodeURIComponent(key)}`;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let res;
    try {
      res = await httpRequest({ url, method: 'POST', headers, body: '{"context":{}}', timeoutMs: REQUEST_TIMEOUT_MS });
    } catch (err) {
      // HttpUnreachableError is already transient with a one-line message; say who was unreachable.
      if (err instanceof TransientError) throw new TransientError(`${this.description}: ${err.message}`, { cause: err });
      throw err;
    }
    const answer = parseAnswer(res.text);
    const said = answer?.errorCode ? `${answer.errorCode}${answer.errorDetails ? `: ${answer.errorDetails}` : ''}` : `HTTP ${res.status}`;
    if (res.status === 200) {
      if (!answer) throw new OfrepError(`${this.description} answered flag ${key} with a body that is not an OFREP evaluation (no JSON object)`);
      return { value: answer.value };
    }
    if (res.status === 404 || answer?.errorCode === 'FLAG_NOT_FOUND') return undefined;
    if (res.status === 401 || res.status === 403) {
      const was = this.token ? 'rejected the token in OFREP_TOKEN' : 'needs a token and OFREP_TOKEN is not set';
      throw new OfrepError(
        `${this.description} ${was} (HTTP ${res.status} for flag ${key}): set OFREP_TOKEN to a token that may evaluate flags`,
      );
    }
    if (isRetryableStatus(res.status)) throw new TransientError(`${this.description} answered ${said} for flag ${key}`);
    throw new OfrepError(`${this.description} could not evaluate flag ${key}: ${said}`);
  }
}

function parseAnswer(text: string): OfrepAnswer | undefined {
  try {
    const doc: unknown = JSON.parse(text);
    return doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? (doc as OfrepAnswer) : undefined;
  } catch {
    return undefined;
  }
}
