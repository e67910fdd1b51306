// Secrets never leak: a full sync-to-async run with every credential a team would give migrate,
// each used for real: Kafka over SASL_SSL with SCRAM-SHA-512 (a broker of this test's own, the
// demo services on its plaintext listener), flags in Unleash (admin and client tokens), the
// schema in an Apicurio Registry that requires basic auth, and a secret param sent as an
// http.probe header and in a probe's URL. Every output is scanned: the run's stdout and stderr (human and
// --json, --junit), status, report (Markdown and HTML), plan, validate, graph, doctor, the GitHub job summary, the webhook's
// messages, and every file left in the working directory (the state under .migrate/ included).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../support/cli.js';
import { makeWorld, startCli, startConsumerOf, whenStepRuns, type World } from '../support/procedure.js';
import { builtinPlaybookDir } from '../../src/playbook/load.js';
import { startKafka } from '../../scripts/kafka-lib.mjs';
import { startRegistry } from '../../scripts/registry-lib.mjs';
import { unleashEnv } from '../support/unleash-admin.js';
import { report } from './figures.js';
import { snapshotFiles } from './support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** An endpoint that answers 200 only to the right token, in a header or in the query; and a webhook. */
async function tokenServer(token: string) {
  const seen = { authorized: 0, query: 0, rejected: 0, hooks: [] as string[] };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      let ok = false;
      if (url.pathname === '/auth') ok = req.headers.authorization === `Bearer ${token}`;
      else if (url.pathname === '/query') ok = url.searchParams.get('key') === token;
      else if (url.pathname === '/hook') {
        seen.hooks.push(body);
        ok = true;
      }
      if (url.pathname === '/auth' && ok) seen.authorized += 1;
      else if (url.pathname === '/query' && ok) seen.query += 1;
      else if (!ok) seen.rejected += 1;
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(ok ? '{"ok":true}' : '{"error":"unauthorized"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The built-in sync-to-async playbook, with a secret token that two probes at its end send. */
async function secretPlaybook(): Promise<string> {
  const builtin = await readFile(path.join(builtinPlaybookDir, 'sync-to-async.yaml'), 'utf8');
  const params = 'params:\n  token: { required: true, secret: true, description: the API token of the protected endpoint }\n  authUrl: { required: true }\n';
  const steps = [
    '  - id: authorized',
    '    title: The protected endpoint accepts the token',
    '    uses: http.probe',
    '    with: { url: "${{ params.authUrl }}/auth", headers: { Authorization: "Bearer ${{ params.token }}" }, successes: 2 }',
    '  - id: query-key',
    '    uses: http.probe',
    '    with: { url: "${{ params.authUrl }}/query?key=${{ params.token }}", successes: 1 }',
    '',
  ].join('\n');
  expect(builtin).toContain('\nparams:\n');
  return builtin.replace('\nparams:\n', `\n${params}`).trimEnd() + '\n' + steps;
}

describe('secrets, through a full sync-to-async run against the real broker', () => {
  it('the SASL password, the Unleash tokens, the registry password and a secret param appear in no output and no file', async (ctx) => {
    const token = `tok-${randomBytes(16).toString('hex')}`;
    const saslPassword = `sasl-${randomBytes(16).toString('hex')}`;
    const registryPassword = `reg-${randomBytes(16).toString('hex')}`;
    const unleash = unleashEnv();
    const secrets = [token, saslPassword, registryPassword, unleash.adminToken, unleash.clientToken];
    // A token's secret part alone (after "project:environment.") is a leak too.
    for (const t of [unleash.adminToken, unleash.clientToken]) secrets.push(t.slice(t.indexOf('.') + 1));

    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'migrate-secrets-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const broker = await startKafka({ dataDir: path.join(dataDir, 'kafka'), security: { users: [{ name: 'migrate', password: saslPassword }] } });
    cleanups.push(() => broker.stop());
    const security = broker.security;
    if (!security) throw new Error('startKafka({ security }) returned no secured listeners');
    const registry = await startRegistry({ dataDir: path.join(dataDir, 'registry'), users: { migrate: registryPassword } });
    cleanups.push(() => registry.stop());

    const env = {
      KAFKA_BROKERS: security.saslSsl,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA: security.caFile,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'migrate',
      KAFKA_SASL_PASSWORD: saslPassword,
      // The environment wins over migrate.config.yaml: point it at this test's registry, not the shared one.
      MIGRATE_SCHEMA_REGISTRY_URL: registry.url,
      SCHEMA_REGISTRY_PASSWORD: registryPassword,
      UNLEASH_API_TOKEN: unleash.adminToken,
      UNLEASH_CLIENT_TOKEN: unleash.clientToken,
      MIGRATE_API_TOKEN: token,
    };

    const server = await tokenServer(token);
    cleanups.push(server.close);
    const w: World = await makeWorld('func', { async: false, producer: false }, { flagsIn: 'unleash', brokers: [broker.brokers] });
    cleanups.push(() => w.stop());
    await writeFile(
      path.join(w.cwd, 'migrate.config.yaml'),
      [
        'flags:',
        '  provider: unleash',
        `  unleash: { url: "${unleash.url}", environment: development }`,
        '  propagation: { unleash: true }',
        'schemas:',
        '  source: registry',
        `  registry: { url: "${registry.url}", username: migrate }`,
        '',
      ].join('\n'),
    );
    await writeFile(path.join(w.cwd, 'secret-sync.yaml'), await secretPlaybook());
    const run = `sync-to-async-${w.topic}`;
    const params = [
      '-p', `topic=${w.topic}`, '-p', `group=${w.group}`, '-p', `flag=${w.flag}`, '-p', `endpoint=${w.endpoint}`,
      '-p', 'kind=func', '-p', 'codePaths=app', '-p', 'minEvents=10', '-p', `token=${token}`, '-p', `authUrl=${server.url}`,
    ];
    const outputs: { what: string; text: string }[] = [];
    const keep = (what: string, r: CliResult) => {
      outputs.push({ what: `${what} (stdout)`, text: r.stdout }, { what: `${what} (stderr)`, text: r.stderr });
      return r;
    };

    // Human output, interrupted while it waits for the consumers; then --json to the end, in
    // GitHub Actions mode with a webhook; then once more, human, on the completed run.
    const first = startCli(['run', 'secret-sync.yaml', '--yes', '--junit', 'junit-interrupted.xml', ...params], { cwd: w.cwd, env });
    await whenStepRuns(w.cwd, run, 'consumers-ready');
    first.kill('SIGINT');
    expect(keep('run, interrupted', await first.result).code).toBe(130);
    w.consumer = await startConsumerOf(w);
    const summary = path.join(w.cwd, 'github-step-summary.md');
    const ci = { ...env, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary };
    const done = keep('run --json', await runCli(['run', 'secret-sync.yaml', '--yes', '--json', '--junit', 'junit.xml', '--notify', `${server.url}/hook`, ...params], { cwd: w.cwd, env: ci }));
    expect(done.code, done.stdout + done.stderr).toBe(0);
    keep('run again', await runCli(['run', 'secret-sync.yaml', '--yes', ...params], { cwd: w.cwd, env }));
    for (const args of [
      ['status'], ['status', '--json'], ['status', run], ['status', run, '--json'],
      ['report', run], ['report', run, '--out', 'report.md'], ['report', run, '--format', 'html', '--out', 'report.html'],
      ['plan', 'secret-sync.yaml', ...params], ['plan', 'secret-sync.yaml', '--json', '--junit', 'plan.xml', ...params],
      ['validate', 'secret-sync.yaml', '--json', ...params], ['graph', 'secret-sync.yaml', ...params],
      ['doctor', '--json'],
    ]) {
      keep(args.join(' ').slice(0, 40), await runCli(args, { cwd: w.cwd, env }));
    }
    for (const [i, body] of server.seen.hooks.entries()) outputs.push({ what: `webhook message ${i + 1}`, text: body });
    for (const file of (await snapshotFiles(w.cwd)).keys()) outputs.push({ what: file, text: await readFile(path.join(w.cwd, file), 'utf8') });

    const leaks = outputs.filter((o) => secrets.some((s) => o.text.includes(s))).map((o) => o.what);
    const stateFiles = outputs.filter((o) => o.what.startsWith('.migrate')).length;
    report(ctx, 'secrets', { 'secrets used': 5, 'outputs scanned': outputs.length, 'state files': stateFiles, 'webhook messages': server.seen.hooks.length, leaks: leaks.length });
    expect(leaks).toEqual([]);

    // The secret was used where the playbook said, and masked only in what was written down.
    expect(server.seen.authorized).toBeGreaterThanOrEqual(2);
    expect(server.seen.query).toBeGreaterThanOrEqual(1);
    const state = JSON.parse(await readFile(path.join(w.cwd, '.migrate', `${run}.json`), 'utf8')) as { status: string; params: Record<string, string> };
    expect(state.status).toBe('completed');
    // Each credential was really used: the schema went into the authenticating registry, the
    // flags were switched in Unleash (the run completed its flag.set steps), Kafka over SCRAM.
    const versions = await fetch(`${registry.url}/subjects/datarep.${w.topic}-value/versions`, {
      headers: { authorization: `Basic ${Buffer.from(`migrate:${registryPassword}`).toString('base64')}` },
    });
    const body = await versions.text();
    expect(JSON.parse(body), `${versions.status} ${body}`).toEqual([1]);
    expect(state.params.token).toBe('***');
    expect(done.stdout).toContain('/query?key=***');
    expect(await readFile(summary, 'utf8')).not.toBe('');
    // The files the scan read include the JUnit files and the HTML report.
    for (const file of ['junit-interrupted.xml', 'junit.xml', 'plan.xml', 'report.html']) expect(outputs.some((o) => o.what === file), file).toBe(true);
    expect(server.seen.hooks.length).toBeGreaterThan(0);
  });
});
