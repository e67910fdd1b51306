// `migrate dashboard` in a real headless browser (Debian's chromium, driven by playwright-core):
// a live drain's lag chart moves while a real consumer works through a backlog, a gate is
// approved from the page and the waiting run goes on, and writes without the token or from
// another origin are refused. Screenshots go to test-results/dashboard/.
import { mkdir } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runCli, startCli, unique, workdir } from '../support/cli.js';
import { testKafka, topicWithBacklog } from '../support/kafka-client.js';
import { drainPlaybook } from '../support/playbooks.js';

const shots = fileURLToPath(new URL('../../test-results/dashboard/', import.meta.url));

/** The drain of test/support/playbooks.ts, then a gate and a step after it. */
const playbook =
  drainPlaybook({ samples: 2, interval: '500ms', timeout: '5m' }) +
  `  - id: go-ahead
    uses: confirm
    with: { message: Switch the callers over? }
  - id: next-topic
    uses: kafka.topic
    with: { name: "\${{ params.topic }}-next", partitions: 1 }
`;

/** A consumer of the application's kind, slowed down: it commits each record a moment after reading it. */
async function slowConsumer(topic: string, group: string, perRecordMs: number) {
  const consumer = testKafka().consumer({ groupId: group });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      await new Promise((r) => setTimeout(r, perRecordMs));
      await consumer.commitOffsets([{ topic, partition, offset: String(BigInt(message.offset) + 1n) }]);
    },
  });
  return consumer;
}

/** Status code of a POST sent with exactly these headers (node:http lets a test set Host and Origin). */
function post(url: URL, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What the page's chart holds now: the step it shows and its lag points. */
async function chartData(page: Page): Promise<{ step: string; lag: (number | null)[] } | undefined> {
  const chart = page.locator('#chart');
  const [step, lag] = await Promise.all([chart.getAttribute('data-step'), chart.getAttribute('data-lag')]);
  return step && lag ? { step, lag: JSON.parse(lag) as (number | null)[] } : undefined;
}

describe('migrate dashboard in a headless browser', () => {
  let browser: Browser;
  let elsewhere: Server;

  beforeAll(async () => {
    await mkdir(shots, { recursive: true });
    console.log(`dashboard screenshots: ${shots}`);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      // chromium gets a fresh profile from playwright (a new temporary user-data-dir per launch).
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // Another site, for the cross-origin attempt: a page on another origin that tries to write.
    elsewhere = createServer((_req, res) => res.end('<!doctype html><title>elsewhere</title>'));
    await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => elsewhere?.close(r));
  });

  it('shows a live drain moving, approves the gate from the page, and refuses writes without the token or from elsewhere', { timeout: 240_000 }, async () => {
    const topic = unique('dash');
    const group = `${topic}-app`;
    const run = `drain-${topic}`;
    await topicWithBacklog(topic, [25, 25, 25]);
    const cwd = await workdir({ 'drain.yaml': playbook });

    const dashboard = startCli(['dashboard', '--interval', '300ms'], { cwd });
    const consumer = await slowConsumer(topic, group, 150);
    const running = startCli(['run', 'drain.yaml', '--name', run, '-p', `topic=${topic}`, '-p', `group=${group}`, '--wait-approval', '5m', '--json'], { cwd });
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    try {
      await dashboard.untilStdout(/http:\/\/\S+#token=\S+/);
      const [, base = '', token = ''] = /(http:\/\/\S+)#token=(\S+)/.exec(dashboard.printed()) ?? [];
      expect(token).toHaveLength(43); // 32 random bytes, base64url

      await page.goto(`${base}#token=${token}`);
      await page.locator(`tr[data-run="${run}"] a`).click({ timeout: 60_000 });

      // The drain's chart gains points while lag falls: pushed by the server, no reload.
      const first = await eventually(async () => {
        const d = await chartData(page);
        return d && d.step === 'drained' && d.lag.length >= 1 && (d.lag[0] ?? 0) > 0 ? d : undefined;
      }, 120_000, 200);
      await page.screenshot({ path: path.join(shots, 'drain.png'), fullPage: true });
      const later = await eventually(async () => {
        const d = await chartData(page);
        return d && d.lag.length >= first.lag.length + 2 ? d : undefined;
      }, 120_000, 200);
      const lags = later.lag.filter((l): l is number => l !== null);
      expect(lags.at(-1)).toBeLessThan(lags[0] as number);

      // The drain ends and the run pauses at the gate; the page offers to approve it.
      const approve = page.locator('li[data-step="go-ahead"] button[data-action="approve"]');
      await approve.waitFor({ timeout: 180_000 });
      await page.screenshot({ path: path.join(shots, 'gate.png'), fullPage: true });

      // Writes that must be refused, and the run still waits after each.
      const url = (p: string) => new URL(p, base);
      const target = url(`/api/runs/${run}/approve`);
      const body = JSON.stringify({ step: 'go-ahead' });
      const host = target.host;
      expect(await post(target, { host, 'content-type': 'application/json' }, body)).toBe(403);
      expect(await post(target, { host, 'content-type': 'application/json', authorization: 'Bearer not-the-token' }, body)).toBe(403);
      expect(await post(target, { host, 'content-type': 'application/json', authorization: `Bearer ${token}`, origin: 'http://evil.example' }, body)).toBe(403);
      expect(await post(target, { host, 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${token}` }, 'step=go-ahead')).toBe(403);
      expect(await post(target, { host: `rebound.example:${target.port}`, 'content-type': 'application/json', authorization: `Bearer ${token}` }, body)).toBe(421);
      // From a page of another origin, in the browser: a JSON write needs a preflight the dashboard never grants,
      // and a simple (form-like) post is refused by the server.
      const other = await browser.newPage();
      await other.goto(`http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/`);
      const crossSite = await other.evaluate(
        async ({ target, token }) => {
          const json = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{"step":"go-ahead"}' }).then(
            (r) => `answered ${r.status}`,
            () => 'blocked',
          );
          await fetch(target, { method: 'POST', mode: 'no-cors', body: new URLSearchParams({ step: 'go-ahead' }) }).catch(() => undefined);
          return json;
        },
        { target: target.href, token },
      );
      await other.close();
      expect(crossSite).toBe('blocked');
      const stillWaiting = JSON.parse((await runCli(['status', run, '--json'], { cwd })).stdout) as { status: string; pausedAt?: string };
      expect(stillWaiting).toMatchObject({ status: 'paused', pausedAt: 'go-ahead' });

      // Approved from the page: the waiting run notices, goes on and completes.
      await approve.click();
      await page.locator('#action-result', { hasText: 'approved go-ahead' }).waitFor();
      const result = await running.result;
      expect(result.code, result.stderr).toBe(0);
      const stored = JSON.parse((await runCli(['status', run, '--json'], { cwd })).stdout) as { status: string; steps: { id: string; status: string; approval?: { via: string; by: string } }[] };
      expect(stored.status).toBe('completed');
      expect(stored.steps.find((s) => s.id === 'go-ahead')?.approval).toMatchObject({ via: 'dashboard' });
      await page.locator(`tr[data-run="${run}"][data-status="completed"]`).waitFor({ timeout: 30_000 });
      await expect(page.locator('li[data-step="go-ahead"] .approval').textContent()).resolves.toContain('via dashboard');
      await page.screenshot({ path: path.join(shots, 'completed.png'), fullPage: true });
    } finally {
      await page.close();
      await consumer.disconnect();
      running.kill();
      dashboard.kill('SIGINT');
      await dashboard.result;
    }
  });

  it('on the shared Kafka store, from another working directory: approve one gate and skip the next from the page, and the waiting run completes', { timeout: 240_000 }, async () => {
    const topic = unique('dash-shared');
    const run = `shared-${topic}`;
    const config = `state:\n  store: kafka\n  topic: ${topic}-runs\n  lockTopic: ${topic}-locks\n  sessionTimeout: 6s\n`;
    const gates = `name: two-gates
params:
  topic: { required: true }
steps:
  - id: go
    uses: confirm
  - id: extra
    uses: confirm
    with: { message: Second look? }
  - id: create
    uses: kafka.topic
    with: { name: "\${{ params.topic }}", partitions: 1 }
`;
    // The run and the dashboard in two working directories, as a CI runner and a laptop would be.
    const runnerDir = await workdir({ 'migrate.config.yaml': config, 'gates.yaml': gates });
    const laptopDir = await workdir({ 'migrate.config.yaml': config });
    const running = startCli(['run', 'gates.yaml', '--name', run, '-p', `topic=${topic}`, '--wait-approval', '5m', '--json'], { cwd: runnerDir });
    const dashboard = startCli(['dashboard'], { cwd: laptopDir });
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    try {
      await dashboard.untilStdout(/http:\/\/\S+#token=\S+/);
      const [, base = '', token = ''] = /(http:\/\/\S+)#token=(\S+)/.exec(dashboard.printed()) ?? [];
      await page.goto(`${base}#token=${token}&run=${run}`);
      await page.locator('li[data-step="go"] button[data-action="approve"]').click({ timeout: 120_000 });
      await page.locator('#action-result', { hasText: 'approved go' }).waitFor({ timeout: 60_000 });

      // The run noticed, resumed and now waits at the next gate: skip it, with a reason.
      const extra = page.locator('li[data-step="extra"][data-status="waiting"]');
      await extra.waitFor({ timeout: 120_000 });
      await extra.locator('input[data-reason="extra"]').fill('looked at it with the team');
      await extra.locator('button[data-action="skip"]').click();
      await page.locator('#action-result', { hasText: 'skipped extra' }).waitFor({ timeout: 60_000 });

      const result = await running.result;
      expect(result.code, result.stderr).toBe(0);
      const stored = JSON.parse((await runCli(['status', run, '--json'], { cwd: laptopDir })).stdout) as {
        status: string;
        steps: { id: string; status: string; approval?: { via: string }; skip?: { reason: string } }[];
      };
      expect(stored.status).toBe('completed');
      expect(stored.steps.map((st) => st.status)).toEqual(['done', 'skipped', 'done']);
      expect(stored.steps[0]?.approval?.via).toBe('dashboard');
      expect(stored.steps[1]?.skip?.reason).toBe('looked at it with the team');
      await page.locator('li[data-step="extra"] .skip', { hasText: 'looked at it with the team' }).waitFor({ timeout: 30_000 });
      await page.locator(`tr[data-run="${run}"][data-status="completed"]`).waitFor({ timeout: 30_000 });
      await page.screenshot({ path: path.join(shots, 'shared-store.png'), fullPage: true });
    } finally {
      await page.close();
      running.kill();
      dashboard.kill('SIGINT');
      await dashboard.result;
    }
  });

  it('run --wait-approval that nobody answers ends paused at the gate (exit 3), as without it; a duration it cannot read is exit 2', async () => {
    const cwd = await workdir({ 'gate.yaml': 'name: gate\nsteps:\n  - id: go\n    uses: confirm\n' });
    const waited = await runCli(['run', 'gate.yaml', '--wait-approval', '1s'], { cwd });
    expect(waited.code, waited.stderr).toBe(3);
    const state = JSON.parse((await runCli(['status', 'gate', '--json'], { cwd })).stdout) as { status: string; pausedAt?: string };
    expect(state).toMatchObject({ status: 'paused', pausedAt: 'go' });
    const bad = await runCli(['run', 'gate.yaml', '--wait-approval', 'soon'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--wait-approval: "soon" is not a duration');
  });
});
