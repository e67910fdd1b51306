// Basic auth against a real Apicurio Registry that requires it (Quarkus's embedded user realm,
// turned on by scripts/registry-lib.mjs when given users): a registry of this file's own, since
// the shared one has auth off. The password comes from the environment only and is never echoed.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startRegistry, type RegistryHandle } from '../../scripts/registry-lib.mjs';
import { ConfluentSchemaRegistry } from '../../src/adapters/schemas-registry.js';
import { runCli, unique, workdir } from '../support/cli.js';
import { registerPlaybook } from '../support/playbooks.js';
import { exerciseCompletedSchema } from '../support/seed-schema.js';

const user = 'migrate';
const password = `pw-${randomBytes(12).toString('hex')}`;
const wrongPassword = `wrong-${randomBytes(12).toString('hex')}`;
let registry: RegistryHandle;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'migrate-registry-auth-'));
  registry = await startRegistry({ dataDir, users: { [user]: password }, log: (m) => process.stderr.write(`[registry-auth] ${m}\n`) });
});
afterAll(async () => {
  await registry?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('a registry that requires basic auth', () => {
  it('the password is not on the registry command line', async () => {
    const cmdline = await readFile(`/proc/${registry.pid}/cmdline`, 'utf8');
    expect(cmdline).toContain('quarkus-run.jar');
    expect(cmdline).not.toContain(password);
  });

  it('without credentials: says which variables to set', async () => {
    const anonymous = new ConfluentSchemaRegistry({ url: registry.url });
    await expect(anonymous.versions('ExerciseCompleted', { topic: 't' })).rejects.toThrow(
      `the registry at ${registry.url} requires credentials: set SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD`,
    );
  });

  it('a wrong password: refused, naming the variables and not the password', async () => {
    const wrong = new ConfluentSchemaRegistry({ url: registry.url, username: user, password: wrongPassword });
    const err = await wrong.register('ExerciseCompleted', 0, exerciseCompletedSchema, { topic: 't' }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toBe(`the registry at ${registry.url} refused the credentials (SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD)`);
  });

  it('the right credentials: registers and reads back', async () => {
    const ok = new ConfluentSchemaRegistry({ url: registry.url, username: user, password });
    const topic = unique('datarep.auth');
    const stored = await ok.register('ExerciseCompleted', 0, exerciseCompletedSchema, { topic });
    expect(stored).toMatchObject({ subject: `${topic}-value`, registryVersion: 1, id: expect.any(Number) });
    expect((await ok.get('ExerciseCompleted', 0, { topic }))?.schema).toEqual(exerciseCompletedSchema);
  });

  it('through the CLI: credentials from the environment; doctor and run never print or store the password', async () => {
    const topic = unique('auth-cli');
    const cwd = await workdir({
      'migrate.config.yaml': `schemas:\n  source: registry\n  registry:\n    url: ${registry.url}\n    username: ${user}\n`,
      'schema.json': JSON.stringify(exerciseCompletedSchema),
      'playbook.yaml': registerPlaybook('schema.json'),
    });
    const wrongEnv = { SCHEMA_REGISTRY_PASSWORD: wrongPassword, MIGRATE_SCHEMA_REGISTRY_URL: undefined };
    const doctor = await runCli(['doctor', '--json'], { cwd, env: wrongEnv });
    const schemas = (JSON.parse(doctor.stdout) as { checks: { name: string; status: string; message: string; fix?: string }[] }).checks.find((c) => c.name === 'schemas');
    expect(schemas).toEqual({
      name: 'schemas',
      status: 'fail',
      message: `cannot list subjects: the registry at ${registry.url} refused the credentials (SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD)`,
      fix: 'check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD',
    });

    const refused = await runCli(['run', 'playbook.yaml', '-p', `topic=${topic}`, '--json'], { cwd, env: wrongEnv });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('refused the credentials (SCHEMA_REGISTRY_USERNAME / SCHEMA_REGISTRY_PASSWORD)');

    const run = await runCli(['run', 'playbook.yaml', '-p', `topic=${topic}`, '--name', 'ok', '--json'], { cwd, env: { ...wrongEnv, SCHEMA_REGISTRY_PASSWORD: password } });
    expect(run.code, run.stdout + run.stderr).toBe(0);

    const printed = [doctor, refused, run].map((r) => r.stdout + r.stderr).join('\n');
    expect(printed).not.toContain(password);
    expect(printed).not.toContain(wrongPassword);
    const files = (await readdir(path.join(cwd, '.migrate'), { withFileTypes: true, recursive: true })).filter((e) => e.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const text = await readFile(path.join(f.parentPath, f.name), 'utf8');
      expect(text).not.toContain(password);
      expect(text).not.toContain(wrongPassword);
    }
  });
});
