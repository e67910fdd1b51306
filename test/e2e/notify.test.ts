import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, workdir } from '../support/cli.js';

// Playbooks without Kafka: a gate and flag switches in a flag file.
const gated = `name: notified
params:
  key: { required: true }
  token: { default: "hunter2-secret", secret: true }
steps:
  - id: approve
    uses: confirm
    with: { message: "Switch <\${{ params.key }}> on?" }
  - id: switch
    uses: flag.set
    with: { key: "\${{ params.key }}", on: true }
`;

const failing = `name: failing
steps:
  - id: flag-exists
    uses: flag.check
    with: { key: missing-flag }
    timeout: 0s
`;

interface Received {
  method: string;
  path: string;
  contentType: string | undefined;
  body: { text: string; blocks: { type: string }[]; migrate: Record<string, unknown> };
  raw: string;
}

/** A real webhook receiver on 127.0.0.1 that answers every POST with `status`. */
async function receiver(status = 200): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', contentType: req.headers['content-type'], body: JSON.parse(raw || 'null'), raw });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'invalid_token');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/services/T000/B000/XXXXSECRET`, received, close: () => new Promise((r) => server.close(() => r())) };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('run notifications to a webhook', () => {
  it('--notify: a Slack-compatible POST when the run pauses at a gate, then when it completes; no secrets', async () => {
    const hook = await receiver();
    closers.push(hook.close);
    const cwd = await workdir({ 'pb.yaml': gated });
    const paused = await runCli(['run', 'pb.yaml', '-p', 'key=orders-async', '--notify', hook.url], { cwd });
    expect(paused.code, paused.stderr).toBe(3);
    expect(hook.received).toHaveLength(1);
    const first = hook.received[0] as Received;
    expect(first).toMatchObject({ method: 'POST', path: '/services/T000/B000/XXXXSECRET', contentType: 'application/json' });
    expect(first.body.text).toBe('migrate: run notified is waiting for approval at gate approve');
    expect(first.body.blocks[0]).toMatchObject({ type: 'section', text: { type: 'mrkdwn', text: expect.stringContaining('Switch &lt;orders-async&gt; on?') } });
    expect(first.body.migrate).toMatchObject({
      run: 'notified',
      playbook: 'notified',
      status: 'paused',
      step: 'approve',
      continueWith: `migrate run pb.yaml --name notified --approve approve`,
    });

    const done = await runCli(['run', 'pb.yaml', '--name', 'notified', '--approve', 'approve', '--notify', hook.url], { cwd });
    expect(done.code, done.stderr).toBe(0);
    expect(hook.received).toHaveLength(2);
    expect(hook.received[1]?.body.migrate).toMatchObject({ run: 'notified', status: 'completed' });
    expect(hook.received[1]?.body.text).toMatch(/^migrate: run notified completed in \d+m?s$/);
    for (const r of hook.received) expect(r.raw).not.toContain('hunter2-secret');
  });

  it('notify.webhook in migrate.config.yaml: a POST when a step fails, with the error', async () => {
    const hook = await receiver();
    closers.push(hook.close);
    const cwd = await workdir({ 'pb.yaml': failing, 'migrate.config.yaml': `notify:\n  webhook: ${hook.url}\n` });
    await writeFile(path.join(cwd, 'flags.json'), '{"flags": {}}\n');
    const res = await runCli(['run', 'pb.yaml'], { cwd });
    expect(res.code).toBe(1);
    expect(hook.received).toHaveLength(1);
    expect(hook.received[0]?.body.migrate).toMatchObject({ run: 'failing', status: 'failed', step: 'flag-exists', error: expect.stringContaining('missing-flag') });
    expect(hook.received[0]?.body.text).toMatch(/^migrate: run failing failed at step flag-exists: /);
  });

  it('a failing webhook never fails the run: a warning on stderr that does not repeat the URL path', async () => {
    const hook = await receiver(500);
    closers.push(hook.close);
    const cwd = await workdir({ 'pb.yaml': gated });
    const res = await runCli(['run', 'pb.yaml', '-p', 'key=k', '--notify', hook.url], { cwd });
    expect(res.code).toBe(3);
    expect(hook.received).toHaveLength(1);
    expect(res.stderr).toBe(`warning: run notification not sent: webhook ${new URL(hook.url).origin} answered HTTP 500: invalid_token\n`);

    await hook.close();
    closers.length = 0;
    const unreachable = await runCli(['run', 'pb.yaml', '--name', 'notified', '--approve', 'approve', '--notify', hook.url], { cwd });
    expect(unreachable.code).toBe(0);
    expect(unreachable.stderr).toMatch(/^warning: run notification not sent: webhook http:\/\/127\.0\.0\.1:\d+: connection refused by 127\.0\.0\.1:\d+\n$/);
    expect(unreachable.stderr).not.toContain('XXXXSECRET');
  });

  it('a --notify that is not an http(s) URL is bad input before anything runs', async () => {
    const cwd = await workdir({ 'pb.yaml': gated });
    const res = await runCli(['run', 'pb.yaml', '-p', 'key=k', '--notify', 'hooks.example/SECRET'], { cwd });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('error: the notification webhook is not an http:// or https:// URL');
    expect(res.stderr).not.toContain('SECRET');
  });
});
