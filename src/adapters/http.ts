/**
 * HTTP requests for steps (probes of the sync endpoint). The only module that imports undici,
 * and only on the first request, so CLI start-up does not pay for it.
 */
import { performance } from 'node:perf_hooks';
import { TransientError } from '../errors.js';
import { formatDuration } from '../util/time.js';

/** One request. `timeoutMs` bounds the whole exchange: connect, headers and body. */
export interface HttpRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Cancels the request (Ctrl-C); its reason is rethrown as is. */
  signal?: AbortSignal;
}

/** What came back, whatever the status. */
export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  text: string;
  /** From sending the request to the last byte of the body. */
  latencyMs: number;
}

/** The endpoint could not be reached or gave no complete answer in time; the message is one line. */
export class HttpUnreachableError extends TransientError {
  /** The underlying error code, e.g. ECONNREFUSED, UND_ERR_SOCKET, TIMEOUT. */
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'HttpUnreachableError';
    this.code = code;
  }
}

/** An answer worth asking again for: the server failed (5xx) or asked to slow down (429). */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/** Sends one request and reads the whole body as text. Connection failures throw HttpUnreachableError. */
export async function httpRequest(r: HttpRequest): Promise<HttpResponse> {
  const { request } = await import('undici');
  const target = new URL(r.url);
  const deadline = AbortSignal.timeout(r.timeoutMs);
  const signal = r.signal ? AbortSignal.any([r.signal, deadline]) : deadline;
  const started = performance.now();
  try {
    const res = await request(target, {
      method: (r.method ?? 'GET').toUpperCase(),
      ...(r.headers ? { headers: r.headers } : {}),
      ...(r.body !== undefined ? { body: r.body } : {}),
      signal,
      headersTimeout: r.timeoutMs,
      bodyTimeout: r.timeoutMs,
    });
    const text = await res.body.text();
    const latencyMs = Math.round(performance.now() - started);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    return { status: res.statusCode, headers, text, latencyMs };
  } catch (err) {
    if (r.signal?.aborted) throw r.signal.reason;
    if (deadline.aborted) throw new HttpUnreachableError(`no response from ${hostPort(target)} within ${formatDuration(r.timeoutMs)}`, 'TIMEOUT');
    throw unreachable(err, target, r.timeoutMs) ?? err;
  }
}

/** A one-line HttpUnreachableError for a connection-level failure; undefined for anything else (a bug, a bad argument). */
function unreachable(err: unknown, target: URL, timeoutMs: number): HttpUnreachableError | undefined {
  const code = errorCode(err);
  if (!code) return undefined;
  const at = hostPort(target);
  switch (code) {
    case 'ECONNREFUSED':
      return new HttpUnreachableError(`connection refused by ${at}`, code);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      return new HttpUnreachableError(`connection to ${at} was closed before a complete response`, code);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return new HttpUnreachableError(`host ${target.hostname} not found`, code);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return new HttpUnreachableError(`${at} is unreachable (${code})`, code);
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new HttpUnreachableError(`connecting to ${at} timed out`, code);
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return new HttpUnreachableError(`no response from ${at} within ${formatDuration(timeoutMs)}`, code);
  }
  // TLS failures (bad certificate, handshake) are connection failures too.
  if (/^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/.test(code)) {
    return new HttpUnreachableError(`TLS connection to ${at} failed: ${firstLine(err)}`, code);
  }
  return undefined;
}

/** The error's code; for an AggregateError (every address of a host failed), the first inner one's. */
function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && code !== 'UND_ERR') return code;
  const inner = (err as { errors?: unknown }).errors;
  return Array.isArray(inner) && inner.length ? errorCode(inner[0]) : undefined;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}

/** "127.0.0.1:8080", with the scheme's default port when the URL names none. */
function hostPort(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}
