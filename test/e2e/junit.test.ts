import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureJunitSchema } from '../../scripts/junit-schema.mjs';
import { runCli, startCli, workdir } from '../support/cli.js';

// `--junit FILE` as CI systems read it: the file the real CLI writes is validated against the JUnit
// schema Jenkins' xUnit plugin maintains (junit-10.xsd, fetched by scripts/junit-schema.mjs), by libxml2's own validator, and read
// back with XPath, so a file no CI system could parse fails here.
const exec = promisify(execFile);
let xsd = '';
beforeAll(async () => {
  xsd = await ensureJunitSchema();
});
const secret = 'tok-9f8e7d-never-shown';

/** xmllint --schema: throws with its complaint unless the file is valid. */
async function validate(file: string): Promise<void> {
  try {
    await exec('xmllint', ['--noout', '--schema', xsd, file]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('xmllint is not installed: apt-get install libxml2-utils (.ci/run does)');
    throw new Error(`${file} does not validate against junit-10.xsd:\n${e.stderr ?? e.message}`);
  }
}

/** The string value of an XPath expression over the file. */
async function xpath(file: string, expr: string): Promise<string> {
  // xmllint ends what it prints with a line break of its own.
  return (await exec('xmllint', ['--xpath', `string(${expr})`, file])).stdout.replace(/\n$/, '');
}

const playbook = `name: ci-checks
params:
  url: { required: true }
  token: { secret: true, required: true }
steps:
  - id: settle
    uses: pause
    with: { for: 1ms }
  - id: healthy
    uses: http.probe
    with: { url: "\${{ params.url }}/ok?token=\${{ params.token }}", successes: 1 }
    interval: 50ms
  - id: by-hand
    uses: confirm
    with: { message: "Done by hand?" }
  - id: broken
    uses: http.probe
    with: { url: "\${{ params.url }}/broken?token=\${{ params.token }}", successes: 1 }
    interval: 50ms
    timeout: 300ms
  - id: go-live
    uses: confirm
    with: { message: "Go live?" }
`;

let server: Server;
let url: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url?.startsWith('/ok')) res.writeHead(200).end('{}');
    else res.writeHead(503, { 'content-type': 'application/json' }).end(`{"error":"upstream down","echo":"${req.url}"}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('run --junit', () => {
  it('writes a schema-valid file with a passing, a skipped, a failing and a step not reached; exit code unchanged; no secret', async () => {
    const cwd = await workdir({ 'ci.yaml': playbook });
    const res = await runCli(
      ['run', 'ci.yaml', '-p', `url=${url}`, '-p', `token=${secret}`, '--skip', 'by-hand', '--reason', 'done in <PR 12> & "co"', '--junit', 'reports/junit.xml'],
      { cwd },
    );
    expect(res.code, res.stderr).toBe(1);
    const file = path.join(cwd, 'reports/junit.xml');
    await validate(file);
    expect(await xpath(file, '/testsuites/testsuite/@tests')).toBe('5');
    expect(await xpath(file, '/testsuites/testsuite/@failures')).toBe('1');
    expect(await xpath(file, '/testsuites/testsuite/@skipped')).toBe('2');
    expect(await xpath(file, '//property[@name="status"]/@value')).toBe('failed');
    expect(await xpath(file, '//property[@name="playbook"]/@value')).toBe('ci-checks');
    expect(await xpath(file, '//testcase[@name="settle"]/@classname')).toBe('ci-checks');
    expect(await xpath(file, 'count(//testcase[@name="healthy"]/*[self::failure or self::skipped or self::error])')).toBe('0');
    expect(await xpath(file, '//testcase[@name="by-hand"]/skipped/@message')).toMatch(/^skipped by .+: done in <PR 12> & "co"$/);
    expect(await xpath(file, '//testcase[@name="broken"]/failure/@type')).toBe('timeout');
    expect(await xpath(file, '//testcase[@name="broken"]/failure')).toContain('expected status 200, got 503');
    expect(Number(await xpath(file, '//testcase[@name="broken"]/@time'))).toBeGreaterThan(0);
    expect(await xpath(file, '//testcase[@name="go-live"]/skipped/@message')).toBe('not reached: the run failed at broken');
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(secret);
    expect(await xpath(file, '//property[@name="param.token"]/@value')).toBe('***');
  });

  it('a run paused at a gate: the gate is skipped with the command that continues it (exit 3)', async () => {
    const cwd = await workdir({ 'ci.yaml': playbook.replace(/ {2}- id: broken[\s\S]*?timeout: 300ms\n/, '') });
    const res = await runCli(['run', 'ci.yaml', '-p', `url=${url}`, '-p', `token=${secret}`, '--approve', 'by-hand', '--junit', 'junit.xml'], { cwd });
    expect(res.code, res.stderr).toBe(3);
    const file = path.join(cwd, 'junit.xml');
    await validate(file);
    expect(await xpath(file, '//property[@name="status"]/@value')).toBe('paused');
    expect(await xpath(file, '/testsuites/testsuite/@failures')).toBe('0');
    expect(await xpath(file, '//testcase[@name="by-hand"]/system-out')).toMatch(/^approved by .+ \(--approve\)$/);
    expect(await xpath(file, '//testcase[@name="go-live"]/skipped/@message')).toMatch(/^waiting for approval at this gate; continue with: migrate run ci\.yaml --name ci-checks .*--approve go-live$/);
  });

  it('Ctrl-C: the file is still written, the step it stopped says so (exit 130)', async () => {
    const cwd = await workdir({ 'long.yaml': 'name: long\nsteps:\n  - id: settle\n    uses: pause\n    with: { for: 10m }\n    interval: 100ms\n  - id: after\n    uses: pause\n    with: { for: 1ms }\n' });
    const child = startCli(['run', 'long.yaml', '--junit', 'junit.xml'], { cwd });
    await child.untilStdout(/waited \S+ of 10m/);
    child.kill('SIGINT');
    const res = await child.result;
    expect(res.code, res.stderr).toBe(130);
    const file = path.join(cwd, 'junit.xml');
    await validate(file);
    expect(await xpath(file, '//property[@name="status"]/@value')).toBe('interrupted');
    expect(await xpath(file, '//testcase[@name="settle"]/skipped/@message')).toMatch(/^interrupted during this step/);
    expect(await xpath(file, '//testcase[@name="after"]/skipped/@message')).toBe('not reached: the run was interrupted at settle');
  });

  it('a run that never starts (bad input) still leaves a valid file with the error (exit 2)', async () => {
    const cwd = await workdir({ 'ci.yaml': playbook });
    const res = await runCli(['run', 'ci.yaml', '-p', `url=${url}`, '--junit', 'junit.xml'], { cwd });
    expect(res.code, res.stderr).toBe(2);
    const file = path.join(cwd, 'junit.xml');
    await validate(file);
    expect(await xpath(file, '/testsuites/testsuite/@errors')).toBe('1');
    expect(await xpath(file, '//testcase[@name="run"]/error/@message')).toContain('token');

    // A bad configuration, read before anything else, too.
    await writeFile(path.join(cwd, 'migrate.config.yaml'), 'kafka: { brokers: 7 }\n');
    const config = await runCli(['run', 'ci.yaml', '-p', `url=${url}`, '-p', `token=${secret}`, '--junit', 'config.xml'], { cwd });
    expect(config.code, config.stderr).toBe(2);
    await validate(path.join(cwd, 'config.xml'));
    expect(await xpath(path.join(cwd, 'config.xml'), '//testcase[@name="run"]/error/@message')).toContain('migrate.config.yaml');
  });
});

describe('plan --junit', () => {
  it('writes a schema-valid file: satisfied and waits pass, a gate cannot be checked (skipped); exit 0; bad input: one test in error, exit 2', async () => {
    const cwd = await workdir({ 'ci.yaml': playbook });
    const res = await runCli(['plan', 'ci.yaml', '-p', `url=${url}`, '-p', `token=${secret}`, '--junit', 'plan.xml'], { cwd });
    expect(res.code, res.stderr).toBe(0);
    const file = path.join(cwd, 'plan.xml');
    await validate(file);
    expect(await xpath(file, '/testsuites/testsuite/@tests')).toBe('5');
    expect(await xpath(file, '//testcase[@name="by-hand"]/skipped/@message')).toMatch(/^cannot check: a gate/);
    expect(await xpath(file, '//testcase[@name="healthy"]/system-out')).toMatch(/^(satisfied|would wait): /);
    expect(await readFile(file, 'utf8')).not.toContain(secret);

    const bad = await runCli(['plan', 'ci.yaml', '-p', `url=${url}`, '--junit', 'bad.xml'], { cwd });
    expect(bad.code, bad.stderr).toBe(2);
    await validate(path.join(cwd, 'bad.xml'));
    expect(await xpath(path.join(cwd, 'bad.xml'), '//testcase[@name="run"]/error/@message')).toContain('token');
  });
});
