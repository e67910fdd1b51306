import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { httpRequest, HttpUnreachableError } from '../../src/adapters/http.js';
import type { RunEvent } from '../../src/engine/events.js';
import { executeRun } from '../../src/engine/execute.js';
import type { RunState } from '../../src/state/run-state.js';
import { MemoryRunStore } from '../../src/state/memory-store.js';
import type { Check, StepContext } from '../../src/steps/contract.js';
import { httpProbeStep } from '../../src/steps/http-probe.js';
import { boundPlaybook } from '../support/bound-playbook.js';
import { stepContext } from '../support/step-context.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** A real HTTP server on 127.0.0.1 and a free port; counts the requests it gets. */
async function serve(handler: Handler): Promise<{ url: string; port: number; hits: () => number }> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits += 1;
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/health`, port, hits: () => hits };
}

/** Answers each request with the next of `replies` (the last one repeats). */
function scripted(replies: { status: number; body: string; delayMs?: number }[]): Handler {
  let i = 0;
  return (_req, res) => {
    const r = replies[Math.min(i++, replies.length - 1)] as (typeof replies)[number];
    setTimeout(() => res.writeHead(r.status, { 'content-type': 'application/json' }).end(r.body), r.delayMs ?? 0);
  };
}

/** A port nothing listens on: a server's, after it closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function context(cwd = process.cwd()): StepContext {
  return stepContext({ step: 'probe', cwd });
}

/** Calls the probe's check `times` times in one execution (one memory), as the engine's polls do. */
async function checks(params: Record<string, unknown>, times: number, ctx = context()): Promise<Check[]> {
  const p = httpProbeStep.params.parse(params);
  const out: Check[] = [];
  for (let i = 0; i < times; i++) out.push(await httpProbeStep.check(p, ctx));
  return out;
}

/** Runs one http.probe step through the engine. */
async function runProbe(params: Record<string, unknown>, spec: { timeout: number; interval: number }) {
  const bound = boundPlaybook([{ id: 'healthy', type: httpProbeStep, params: httpProbeStep.params.parse(params), ...spec }], { name: 'probe' });
  const now = new Date().toISOString();
  const state: RunState = {
    version: 1,
    name: 'probe-run',
    playbook: { name: 'probe', ref: 'probe', file: 'probe.yaml', checksum: 'x' },
    params: {},
    paramsChecksum: 'y',
    status: 'running',
    createdAt: now,
    updatedAt: now,
    steps: [{ id: 'healthy', uses: 'http.probe', status: 'pending', attempts: 0 }],
    history: [],
  };
  const events: RunEvent[] = [];
  const outcome = await executeRun({
    bound,
    state,
    store: new MemoryRunStore(),
    emit: (e) => events.push(e),
    signal: new AbortController().signal,
    services: context(),
    approve: new Set(),
    yes: false,
    continueCommand: () => '',
    retryBaseMs: 1,
  });
  return { outcome, state, events };
}

const summaries = (cs: Check[]) => cs.map((c) => (c.done ? `done: ${c.summary}` : c.summary));

describe('http.probe against real HTTP servers', () => {
  it('passes after N consecutive successes, through the engine', async () => {
    const srv = await serve(scripted([{ status: 200, body: '{"ok":true}' }]));
    const { outcome, state, events } = await runProbe({ url: srv.url, successes: 3 }, { timeout: 10_000, interval: 20 });
    expect(outcome).toEqual({ status: 'completed' });
    expect(srv.hits()).toBe(3);
    expect(state.steps[0]).toMatchObject({ status: 'done', outputs: { status: 200, latencyMs: expect.any(Number) } });
    expect(state.steps[0]?.summary).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/health answered 200 in \d+ms, 3 times in a row$/);
    const progress = events.flatMap((e) => (e.type === 'step.progress' ? [e.progress.message] : []));
    expect(progress.map((m) => m.replace(/ \(.*/, ''))).toEqual(['1/3 successes in a row', '2/3 successes in a row']);
  });

  it('a 503 resets the count, and says what it expected and what came back', async () => {
    const srv = await serve(
      scripted([
        { status: 200, body: '{}' },
        { status: 200, body: '{}' },
        { status: 503, body: `down for maintenance ${'x'.repeat(300)}` },
        { status: 200, body: '{}' },
      ]),
    );
    const results = await checks({ url: srv.url, successes: 3 }, 6);
    const s = summaries(results);
    expect(s.slice(0, 2).map((m) => m.replace(/ \(.*/, ''))).toEqual(['1/3 successes in a row', '2/3 successes in a row']);
    expect(s[2]).toBe(`expected status 200, got 503: down for maintenance ${'x'.repeat(179)}…`);
    expect(results[2]).toMatchObject({ done: false, progress: { metrics: { successes: 0, status: 503 } } });
    expect(s.slice(3, 5).map((m) => m.replace(/ \(.*/, ''))).toEqual(['1/3 successes in a row', '2/3 successes in a row']);
    expect(results[5]).toMatchObject({ done: true, outputs: { status: 200 } });
  });

  it('accepts any of several statuses, and sends the declared method, headers and body', async () => {
    let seen: { method?: string; auth?: string; body: string } = { body: '' };
    const srv = await serve((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen = { method: req.method, auth: req.headers.authorization, body };
        res.writeHead(204).end();
      });
    });
    const params = { url: srv.url, method: 'post', headers: { Authorization: 'Bearer t' }, body: '{"ping":1}', status: [200, 204], successes: 1 };
    expect(await checks(params, 1)).toMatchObject([{ done: true, outputs: { status: 204 } }]);
    expect(seen).toEqual({ method: 'POST', auth: 'Bearer t', body: '{"ping":1}' });
    expect(summaries(await checks({ ...params, status: [200, 201, 202] }, 1))).toEqual(['expected status one of 200, 201, 202, got 204']);
  });

  it('names the path where the body fails the schema (inline or a file relative to cwd), compiling it once', async () => {
    const srv = await serve(
      scripted([
        { status: 200, body: '{"payload":{"title":"t"}}' },
        { status: 200, body: '{"payload":{"title":42}}' },
        { status: 200, body: '{"payload": {"title": "t",}}' },
      ]),
    );
    const schema = {
      $schema: 'http://json-schema.org/draft-04/schema#',
      type: 'object',
      required: ['payload'],
      properties: { payload: { type: 'object', properties: { title: { type: 'string' } } } },
    };
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'migrate-probe-'));
    cleanups.push(() => rm(cwd, { recursive: true, force: true }));
    await writeFile(path.join(cwd, 'health.schema.json'), JSON.stringify(schema));
    const ctx = context(cwd);
    const p = httpProbeStep.params.parse({ url: srv.url, schema: 'health.schema.json', successes: 5 });

    const first = await httpProbeStep.check(p, ctx);
    expect(first).toMatchObject({ done: false, summary: expect.stringMatching(/^1\/5 successes/) });
    const compiled = ctx.memory.validator;
    expect(compiled).toBeInstanceOf(Promise);
    await rm(path.join(cwd, 'health.schema.json')); // compiled already: the file is not read again
    expect(await httpProbeStep.check(p, ctx)).toMatchObject({ done: false, summary: 'body fails the schema at /payload/title: must be string' });
    expect(await httpProbeStep.check(p, ctx)).toMatchObject({ done: false, summary: 'body is not JSON: trailing comma before "}" at line 1 column 27' });
    expect(ctx.memory.validator).toBe(compiled);

    const other = await serve(scripted([{ status: 200, body: '{"ok":true}' }]));
    const inline = await checks({ url: other.url, schema: { type: 'object', required: ['missing'] } }, 1);
    expect(summaries(inline)).toEqual([`body fails the schema at the root: must have required property 'missing'`]);
  });

  it('a missing schema file fails the step, naming the file', async () => {
    const srv = await serve(scripted([{ status: 200, body: '{}' }]));
    await expect(checks({ url: srv.url, schema: 'nope.json' }, 1)).rejects.toThrow(/^schema file nope\.json does not exist/);
  });

  it('fails a response over the latency bound', async () => {
    const srv = await serve(scripted([{ status: 200, body: '{}', delayMs: 250 }]));
    const [slow] = summaries(await checks({ url: srv.url, maxLatency: '100ms' }, 1));
    expect(slow).toMatch(/^latency (2[5-9]\d|[3-9]\d\d)ms over the 100ms bound$/);
    expect(summaries(await checks({ url: srv.url, maxLatency: '2s', successes: 1 }, 1))[0]).toMatch(/^done: /);
  });

  it('reports connection refused in one line, and times out through the engine with it', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/health`;
    const err = await httpRequest({ url, timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpUnreachableError);
    expect((err as Error).message).toBe(`connection refused by 127.0.0.1:${port}`);

    const { outcome, state } = await runProbe({ url }, { timeout: 300, interval: 50 });
    expect(outcome.status).toBe('failed');
    expect(state.steps[0]?.error?.message).toBe(`timed out after 300ms: connection refused by 127.0.0.1:${port}`);
  });

  it('gives up on a server that does not answer within requestTimeout', async () => {
    const srv = await serve(() => undefined); // accepts, never answers
    const started = Date.now();
    expect(summaries(await checks({ url: srv.url, requestTimeout: '200ms' }, 1))).toEqual([`no response from 127.0.0.1:${srv.port} within 200ms`]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('rejects bad params before the run', () => {
    const issues = (p: Record<string, unknown>) => httpProbeStep.params.safeParse(p).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(issues({ url: 'ftp://example.com/x' })).toEqual(['url: expected an http:// or https:// URL']);
    expect(issues({ url: 'http://h/', maxLatency: 'fast' })).toEqual(['maxLatency: "fast" is not a duration (examples: 500ms, 30s, 10m, 1h)']);
    expect(issues({ url: 'http://h/', status: [] })).toEqual(['status: name at least one status code']);
    expect(issues({ url: 'http://h/', status: 'abc' })?.[0]).toMatch(/^status\.0: /);
    expect(httpProbeStep.params.parse({ url: 'http://h/', status: '204', successes: '2', requestTimeout: '1s' })).toMatchObject({
      method: 'GET',
      status: [204],
      successes: 2,
      requestTimeout: 1000,
    });
  });
});
