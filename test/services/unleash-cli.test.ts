// The built CLI with `flags: {provider: unleash}`: flag.check and flag.set against the real Unleash
// of test/support/unleash-setup.ts, the tokens only in the environment. Needs `npm run build`
// first (the tests run dist/).
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { events, runCli, unique, workdir, type CliResult } from '../support/cli.js';
import { createFeature, environment, feature, unleashEnv } from '../support/unleash-admin.js';

const playbook = `name: unleash-switch
params:
  flag: { required: true }
steps:
  - id: known
    uses: flag.check
    with: { key: "\${{ params.flag }}", expect: "off" }
  - id: switch
    uses: flag.set
    with: { key: "\${{ params.flag }}", on: true }
  - id: is-on
    uses: flag.check
    with: { key: "\${{ params.flag }}", expect: "on" }
`;

function configYaml(o: { project?: string; propagation?: boolean } = {}): string {
  return [
    'flags:',
    '  provider: unleash',
    '  unleash:',
    `    url: ${unleashEnv().url}`,
    `    project: ${o.project ?? 'default'}`,
    '    environment: development',
    ...(o.propagation ? ['  propagation:', '    unleash: true'] : []),
    '',
  ].join('\n');
}

/** The URL comes from migrate.config.yaml; only the tokens come from the environment. */
function env(o: { adminToken?: string | undefined; clientToken?: string | undefined } = {}): Record<string, string | undefined> {
  const u = unleashEnv();
  return {
    UNLEASH_URL: undefined,
    UNLEASH_PROJECT: undefined,
    UNLEASH_ENVIRONMENT: undefined,
    MIGRATE_FLAGS_PROVIDER: undefined,
    UNLEASH_API_TOKEN: 'adminToken' in o ? o.adminToken : u.adminToken,
    UNLEASH_CLIENT_TOKEN: 'clientToken' in o ? o.clientToken : u.clientToken,
  };
}

/** Every file the run left under .migrate/, as text. */
async function stateFiles(cwd: string): Promise<string> {
  const dir = path.join(cwd, '.migrate');
  const names = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const texts = await Promise.all(names.filter((d) => d.isFile()).map((d) => readFile(path.join(d.parentPath, d.name), 'utf8')));
  return texts.join('\n');
}

/** Neither token (nor its secret part) appears anywhere a user or a file could see it. */
async function expectNoTokens(cwd: string, ...outputs: CliResult[]): Promise<void> {
  const { adminToken, clientToken } = unleashEnv();
  const seen = [...outputs.flatMap((r) => [r.stdout, r.stderr]), await stateFiles(cwd)].join('\n');
  for (const token of [adminToken, clientToken]) {
    expect(seen).not.toContain(token);
    expect(seen).not.toContain(token.slice(token.indexOf('.') + 1));
  }
}

describe('migrate run with flags in Unleash', () => {
  it('checks the flag off, switches it on, waits until the client API serves it, checks it on (exit 0)', async () => {
    const key = unique('cli-switch');
    await createFeature(key);
    const cwd = await workdir({ 'migrate.config.yaml': configYaml({ propagation: true }), 'switch.yaml': playbook });

    const res = await runCli(['run', 'switch.yaml', '-p', `flag=${key}`, '--json'], { cwd, env: env() });
    expect(res.code, res.stderr + res.stdout).toBe(0);
    const done = events(res.stdout).filter((e) => e.type === 'step.done');
    expect(done.map((e) => e.step)).toEqual(['known', 'switch', 'is-on']);
    expect(done[0]?.summary).toBe(`flag ${key} is off (disabled) in Unleash project default, environment development`);
    expect(done[1]?.summary).toContain(`Unleash client API at ${unleashEnv().url} serves it`);
    expect(done[2]?.summary).toBe(`flag ${key} is on in Unleash project default, environment development`);

    // Read back through the admin API: really on, with a strategy, in development only.
    const dev = await environment(key, 'development');
    expect(dev.enabled).toBe(true);
    expect(dev.strategies.map((s) => s.parameters.rollout)).toEqual(['100']);
    expect(await environment(key, 'production')).toMatchObject({ enabled: false, strategies: [] });

    const status = await runCli(['status', 'unleash-switch', '--json'], { cwd, env: env() });
    expect(status.code, status.stderr).toBe(0);
    const run = JSON.parse(status.stdout) as { status: string; steps: { id: string; outputs?: Record<string, unknown> }[] };
    expect(run.status).toBe('completed');
    expect(run.steps.find((s) => s.id === 'switch')?.outputs).toMatchObject({ key, on: true, changed: true, previous: { enabled: false, value: false } });

    const human = await runCli(['status', 'unleash-switch'], { cwd, env: env() });
    await expectNoTokens(cwd, res, status, human);
  });

  it('a token Unleash refuses: exit 2, one line saying so, no stack, no token anywhere', async () => {
    const key = unique('cli-401');
    const cwd = await workdir({ 'migrate.config.yaml': configYaml(), 'switch.yaml': playbook });
    const badToken = `*:*.${'ab'.repeat(24)}`;
    const res = await runCli(['run', 'switch.yaml', '-p', `flag=${key}`], { cwd, env: env({ adminToken: badToken }) });
    expect(res.code, res.stderr + res.stdout).toBe(2);
    const out = res.stdout + res.stderr;
    expect(out).toContain(`Unleash at ${unleashEnv().url} refused the token (401): set UNLEASH_API_TOKEN to an admin API token`);
    expect(out).not.toMatch(/^\s+at /m);
    expect(out).not.toContain(badToken.slice(4));
    await expectNoTokens(cwd, res);

    const json = await runCli(['run', 'switch.yaml', '-p', `flag=${key}`, '--json'], { cwd, env: env({ adminToken: badToken }) });
    expect(json.code).toBe(2);
    expect(json.stdout + json.stderr).not.toContain(badToken.slice(4));
    expect(await feature(key)).toBeUndefined();
  });

  it('a project that does not exist: exit 2 naming the project', async () => {
    const cwd = await workdir({ 'migrate.config.yaml': configYaml({ project: 'nowhere' }), 'switch.yaml': playbook });
    const res = await runCli(['run', 'switch.yaml', '-p', `flag=${unique('cli-404')}`], { cwd, env: env() });
    expect(res.code, res.stderr + res.stdout).toBe(2);
    expect(res.stdout + res.stderr).toContain(`Unleash at ${unleashEnv().url} has no project nowhere (404): set flags.unleash.project in migrate.config.yaml or UNLEASH_PROJECT to one of: default`);
    await expectNoTokens(cwd, res);
  });

  it('no UNLEASH_API_TOKEN in the environment: exit 2 naming it', async () => {
    const cwd = await workdir({ 'migrate.config.yaml': configYaml(), 'switch.yaml': playbook });
    const res = await runCli(['run', 'switch.yaml', '-p', `flag=${unique('cli-notoken')}`], { cwd, env: env({ adminToken: undefined }) });
    expect(res.code, res.stderr + res.stdout).toBe(2);
    expect(res.stdout + res.stderr).toContain('set UNLEASH_API_TOKEN');
    expect(res.stdout + res.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('migrate doctor with flags in Unleash', () => {
  type Doctor = { checks: { name: string; status: string; message: string; fix?: string }[] };
  const flagsCheck = (r: CliResult) => (JSON.parse(r.stdout) as Doctor).checks.find((c) => c.name === 'flags');

  it('reaches Unleash with the token: ok; a refused token or a missing project: fail with the fix, no token printed', async () => {
    const cwd = await workdir({ 'migrate.config.yaml': configYaml() });
    const ok = await runCli(['doctor', '--json'], { cwd, env: env() });
    expect(flagsCheck(ok)).toMatchObject({ status: 'ok', message: 'Unleash project default, environment development: token accepted, project and environment found' });

    const badToken = `*:*.${'cd'.repeat(24)}`;
    const refused = await runCli(['doctor', '--json'], { cwd, env: env({ adminToken: badToken }) });
    expect(flagsCheck(refused)?.status).toBe('fail');
    expect(flagsCheck(refused)?.message).toContain('refused the token (401)');

    const nowhere = await workdir({ 'migrate.config.yaml': configYaml({ project: 'nowhere' }) });
    const missing = await runCli(['doctor', '--json'], { cwd: nowhere, env: env() });
    expect(flagsCheck(missing)?.status).toBe('fail');
    expect(flagsCheck(missing)?.message).toContain('nowhere');
    await expectNoTokens(cwd, ok, refused, missing);
    expect(refused.stdout + refused.stderr).not.toContain(badToken.slice(4));
  });
});
