import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { events, runCli, workdir } from '../support/cli.js';

// The switch of a migration without Kafka: the flag is known and off, the async path answers,
// the flag goes on, and the old sync call is gone from the code.
const playbook = `name: switch
params:
  url: { required: true }
  flag: { default: orders-async }
  on: { default: "true" }
steps:
  - id: flag-known
    uses: flag.check
    with: { key: "\${{ params.flag }}", expect: "off" }
  - id: healthy
    uses: http.probe
    with:
      url: "\${{ params.url }}"
      schema: health.schema.json
      successes: 2
      maxLatency: 2s
    interval: 50ms
    timeout: 1s
  - id: switch
    uses: flag.set
    with: { key: "\${{ params.flag }}", on: "\${{ params.on }}" }
  - id: sync-call-gone
    uses: code.absent
    with: { pattern: "fetch\\\\(.*/api/v0/orders", paths: [src] }
`;

const flags = JSON.stringify({
  $schema: 'https://flagd.dev/schema/v0/flags.json',
  flags: { 'orders-async': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' } },
});

const healthSchema = JSON.stringify({ type: 'object', required: ['status'], properties: { status: { enum: ['ok'] } } });

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

async function serve(status: number, body: string): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(body));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`;
}

async function project(): Promise<string> {
  const cwd = await workdir({ 'switch.yaml': playbook, 'flags.json': flags, 'health.schema.json': healthSchema });
  await mkdir(path.join(cwd, 'src'));
  await writeFile(path.join(cwd, 'src', 'orders.ts'), 'export const publish = (e: unknown) => producer.send(e);\n');
  return cwd;
}

const flagState = async (cwd: string) =>
  (JSON.parse(await readFile(path.join(cwd, 'flags.json'), 'utf8')) as { flags: Record<string, unknown> }).flags['orders-async'];

describe('migrate run with flag, probe and code steps', () => {
  it('checks the flag, probes the endpoint, switches the flag on and finds the old call gone (exit 0)', async () => {
    const url = await serve(200, '{"status":"ok"}');
    const cwd = await project();
    const res = await runCli(['run', 'switch.yaml', '-p', `url=${url}`, '--json'], { cwd });
    expect(res.code, res.stderr + res.stdout).toBe(0);
    const done = events(res.stdout).filter((e) => e.type === 'step.done');
    expect(done.map((e) => e.step)).toEqual(['flag-known', 'healthy', 'switch', 'sync-call-gone']);
    expect(done[1]?.summary).toMatch(/answered 200 in \d+ms, 2 times in a row$/);
    expect(await flagState(cwd)).toEqual({ state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' });

    const status = JSON.parse((await runCli(['status', 'switch', '--json'], { cwd })).stdout) as { status: string; steps: { id: string; outputs?: unknown }[] };
    expect(status.status).toBe('completed');
    expect(status.steps.find((s) => s.id === 'switch')?.outputs).toEqual({
      key: 'orders-async',
      on: true,
      previous: { enabled: true, value: false },
      changed: true,
    });
  });

  it('fails at the probe with what it expected and what came back (exit 1), leaving the flag alone', async () => {
    const url = await serve(503, 'down for maintenance');
    const cwd = await project();
    const res = await runCli(['run', 'switch.yaml', '-p', `url=${url}`], { cwd });
    expect(res.code, res.stderr + res.stdout).toBe(1);
    expect(res.stdout + res.stderr).toContain('timed out after 1s: expected status 200, got 503: down for maintenance');
    expect(await flagState(cwd)).toMatchObject({ defaultVariant: 'off' });
  });

  it('fails at code.absent naming where the old sync call still is; once removed, the run resumes without touching the flag again', async () => {
    const url = await serve(200, '{"status":"ok"}');
    const cwd = await project();
    const legacy = path.join(cwd, 'src', 'legacy.ts');
    await writeFile(legacy, 'import x from "y";\nconst r = await fetch(`${base}/api/v0/orders/${id}`);\n');
    const res = await runCli(['run', 'switch.yaml', '-p', `url=${url}`], { cwd });
    expect(res.code, res.stderr + res.stdout).toBe(1);
    expect(res.stdout + res.stderr).toContain('the pattern still occurs 1 time: src/legacy.ts:2');
    expect(await flagState(cwd)).toMatchObject({ defaultVariant: 'on' });

    const flagFile = await stat(path.join(cwd, 'flags.json'));
    await rm(legacy);
    const resumed = await runCli(['run', 'switch.yaml', '-p', `url=${url}`, '--json'], { cwd });
    expect(resumed.code, resumed.stderr + resumed.stdout).toBe(0);
    expect(events(resumed.stdout).filter((e) => e.type === 'step.started').map((e) => e.step)).toEqual(['sync-call-gone']);
    const after = await stat(path.join(cwd, 'flags.json'));
    expect({ ino: after.ino, mtimeMs: after.mtimeMs }).toEqual({ ino: flagFile.ino, mtimeMs: flagFile.mtimeMs });
  });
});
