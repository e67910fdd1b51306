// The dashboard's HTTP server: the page and its assets, the runs as JSON, a server-sent event
// stream that pushes what changed in the run store, and the two writes (approve, skip). The
// security model is in docs/commands/dashboard.md: loopback by default, a token for writes,
// Host checked on every request (DNS rebinding), Origin and a JSON body on writes (CSRF).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { recordDecision, type StoredDecision } from '../engine/decisions.js';
import { MigrateError, RunLockedError, RunNotFoundError } from '../errors.js';
import { packageRoot } from '../package-root.js';
import { isValidRunName } from '../state/run-name.js';
import type { RunState } from '../state/run-state.js';
import type { RunStore } from '../state/store.js';
import { runDetail, runRow } from './views.js';

/** What the dashboard serves and where. */
export interface DashboardOptions {
  store: RunStore;
  /** Address to bind: 127.0.0.1 unless the user said otherwise. */
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** How often the store is read for changes pushed to open pages. */
  intervalMs: number;
  /** The directory of the built page; default: the package's dist/dashboard/public (scripts/build-dashboard.mjs puts it there). */
  assetsDir?: URL;
  /** Who decisions made on the page are recorded as (user@host of the process that holds the token). */
  by: string;
}

/** A running dashboard. */
export interface Dashboard {
  /** The page's address, with the write token in the fragment (never sent to a server by a browser). */
  url: string;
  port: number;
  token: string;
  /** Stops serving, and closes open event streams. */
  close(): Promise<void>;
}

const assets: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/uPlot.iife.min.js': { file: 'uPlot.iife.min.js', type: 'text/javascript; charset=utf-8' },
  '/uPlot.min.css': { file: 'uPlot.min.css', type: 'text/css; charset=utf-8' },
};

const securityHeaders = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Largest write body accepted. */
const MAX_BODY = 16 * 1024;
/** A comment line on idle event streams, so proxies and browsers keep them open. */
const HEARTBEAT_MS = 15_000;

/** One open page's event stream: the run it shows, and what it was sent last. */
interface Client {
  res: ServerResponse;
  run: string | undefined;
  last?: string;
}

/** Starts the dashboard; resolves once it listens. */
export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const assetsDir = o.assetsDir ?? new URL('dist/dashboard/public/', packageRoot);
  const token = randomBytes(32).toString('base64url');
  const clients = new Set<Client>();
  let port = 0;
  let timer: NodeJS.Timeout | undefined;
  let polling: Promise<void> | undefined;

  /** Reads every run once and sends each open page what changed for it. */
  const poll = (): Promise<void> =>
    (polling ??= (async () => {
      let payload: (c: Client) => string;
      try {
        const states = await o.store.list();
        const rows = states.map(runRow);
        const byName = new Map<string, RunState>(states.map((s) => [s.name, s]));
        payload = (c) => {
          const state = c.run ? byName.get(c.run) : undefined;
          return JSON.stringify({ runs: rows, run: state ? runDetail(state) : null, ...(c.run && !state ? { missing: c.run } : {}) });
        };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        payload = () => JSON.stringify({ error: message });
      }
      for (const c of clients) {
        const data = payload(c);
        if (data === c.last) continue;
        c.last = data;
        c.res.write(`event: snapshot\ndata: ${data}\n\n`);
      }
    })().finally(() => (polling = undefined)));

  const schedule = () => {
    clearTimeout(timer);
    if (clients.size) timer = setTimeout(() => void poll().finally(schedule), o.intervalMs);
  };
  const heartbeat = setInterval(() => {
    for (const c of clients) c.res.write(': ping\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a page of another site whose name now points here still says its own name.
    if (!allowedHost(req.headers.host, port, o.host)) return send(res, 421, { error: 'unknown Host header: open the address the dashboard printed' });
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (req.method === 'GET' || req.method === 'HEAD') {
      const asset = assets[url.pathname];
      if (asset) {
        const body = await readFile(new URL(asset.file, assetsDir));
        res.writeHead(200, { 'content-type': asset.type, ...securityHeaders });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      if (url.pathname === '/api/runs') return send(res, 200, { runs: (await o.store.list()).map(runRow) });
      const one = /^\/api\/runs\/([^/]+)$/.exec(url.pathname);
      if (one) {
        const name = decodeURIComponent(one[1] ?? '');
        const state = isValidRunName(name) ? await o.store.read(name) : undefined;
        return state ? send(res, 200, runDetail(state)) : send(res, 404, { error: `no run named ${name}` });
      }
      if (url.pathname === '/api/events') return openStream(req, res, url.searchParams.get('run') ?? undefined);
      return send(res, 404, { error: 'not found' });
    }
    if (req.method !== 'POST') return send(res, 405, { error: 'method not allowed' });
    const write = /^\/api\/runs\/([^/]+)\/(approve|skip)$/.exec(url.pathname);
    if (!write) return send(res, 404, { error: 'not found' });
    const refused = refuseWrite(req, token);
    if (refused) return send(res, 403, { error: refused });
    const name = decodeURIComponent(write[1] ?? '');
    if (!isValidRunName(name)) return send(res, 404, { error: `no run named ${name}` });
    let body: { step?: unknown; reason?: unknown };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch (err) {
      return send(res, 400, { error: `the body is not JSON: ${err instanceof Error ? err.message : String(err)}` });
    }
    if (typeof body.step !== 'string') return send(res, 400, { error: 'the body needs "step"' });
    const at = new Date().toISOString();
    const decision: StoredDecision =
      write[2] === 'approve'
        ? { kind: 'approve', step: body.step, approval: { by: o.by, via: 'dashboard', at } }
        : { kind: 'skip', step: body.step, skip: { by: o.by, reason: typeof body.reason === 'string' ? body.reason.trim() : '', at } };
    try {
      const state = await recordDecision(o.store, name, decision);
      send(res, 200, runDetail(state));
    } catch (err) {
      if (err instanceof RunLockedError) return send(res, 409, { error: err.message, hint: 'a process drives the run right now; decide when it pauses (migrate run --wait-approval waits for the page)' });
      if (err instanceof RunNotFoundError) return send(res, 404, { error: err.message });
      if (err instanceof MigrateError) return send(res, 400, { error: err.message });
      throw err;
    }
    void poll(); // open pages see the decision now, not at the next tick
  }

  function openStream(req: IncomingMessage, res: ServerResponse, run: string | undefined): void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive', ...securityHeaders });
    res.write('retry: 2000\n\n');
    const client: Client = { res, run };
    clients.add(client);
    req.on('close', () => clients.delete(client));
    void poll().finally(schedule);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  // One connection to the store for as long as the dashboard runs, not one per poll.
  const release = o.store.keepOpen?.();
  const shown = isIP(o.host) === 6 ? `[${o.host}]` : o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host;
  return {
    url: `http://${shown}:${port}/#token=${token}`,
    port,
    token,
    close: async () => {
      clearTimeout(timer);
      clearInterval(heartbeat);
      for (const c of clients) c.res.end();
      clients.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await release?.();
    },
  };
}

/**
 * Host names a request may carry: loopback names, any IP literal (a rebinding attack needs a DNS
 * name), and the name the dashboard was told to bind to; always with the dashboard's port.
 */
export function allowedHost(header: string | undefined, port: number, bound: string): boolean {
  if (!header) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(header.toLowerCase());
  if (!m || Number(m[2] ?? 80) !== port) return false;
  const name = (m[1] ?? '').replace(/^\[|\]$/g, '');
  return name === 'localhost' || isIP(name) !== 0 || name === bound.toLowerCase();
}

/**
 * Why a write is refused, or undefined. Cross-site requests: a browser sends Origin on every POST
 * and cannot send Authorization or a JSON content type to another origin without a preflight,
 * which this server never answers; a plain form post has neither.
 */
export function refuseWrite(req: IncomingMessage, token: string): string | undefined {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host}`) return `cross-origin request from ${origin} refused`;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `cross-site request (${site}) refused`;
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) return 'writes take a JSON body (content-type: application/json)';
  const given = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (!given) return 'writes need the token the dashboard printed (Authorization: Bearer ...)';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return 'wrong token';
  return undefined;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...securityHeaders });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error(`larger than ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
