import { chmod, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, workdir } from '../support/cli.js';
import { kafkaBrokers } from '../support/kafka.js';
import { exerciseCompletedSchema } from '../support/seed-schema.js';

interface Report {
  ok: boolean;
  checks: { name: string; status: string; message: string; fix?: string }[];
}

const check = (r: Report, name: string) => r.checks.find((c) => c.name === name);

async function goodWorld(): Promise<string> {
  const cwd = await workdir({ 'flags.json': '{"flags": {"a": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}}}\n' });
  await mkdir(path.join(cwd, 'schemas/ExerciseCompleted'), { recursive: true });
  await writeFile(path.join(cwd, 'schemas/ExerciseCompleted/0.json'), JSON.stringify(exerciseCompletedSchema));
  return cwd;
}

describe('migrate doctor', () => {
  it('against the real broker: every check passes (exit 0); --write-check creates and deletes a scratch topic', async () => {
    const cwd = await goodWorld();
    const res = await runCli(['doctor', '--json', '--write-check'], { cwd, env: { KAFKA_BROKERS: kafkaBrokers().join(',') } });
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const report = JSON.parse(res.stdout) as Report;
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['config', 'ok'],
      ['kafka', 'ok'],
      ['kafka topics', 'ok'],
      ['kafka write', 'ok'],
      ['flags', 'ok'],
      ['schemas', 'ok'],
      ['state', 'ok'],
    ]);
    expect(check(report, 'kafka')?.message).toMatch(/^connected to .* cluster \S+, \d+ brokers?, controller \d+/);
    expect(check(report, 'kafka write')?.message).toMatch(/^created and deleted scratch topic migrate-doctor-[0-9a-f]+$/);
    expect(check(report, 'flags')?.message).toBe('flag file flags.json: 1 flag, writable');
    expect(check(report, 'schemas')?.message).toBe('schema directory schemas: 1 event, 1 version, all parse');

    const human = await runCli(['doctor'], { cwd, env: { KAFKA_BROKERS: kafkaBrokers().join(',') } });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^✓ kafka +connected to /m);
    expect(human.stdout).toMatch(/^- kafka write +pass --write-check to create and delete a scratch topic$/m);
    expect(human.stdout).toMatch(/^All checks passed\n$/m);
  });

  it('against a dead port: exit 1 within seconds, saying how to start a broker', async () => {
    const cwd = await goodWorld();
    const started = Date.now();
    const res = await runCli(['doctor'], { cwd, env: { KAFKA_BROKERS: '127.0.0.1:1' } });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^✗ kafka +cannot connect: Kafka at 127\.0\.0\.1:1 did not answer/m);
    expect(res.stdout).toContain('fix: is a broker listening at 127.0.0.1:1? start a broker: npm run kafka:start, then export KAFKA_BROKERS=');
    expect(res.stdout).toMatch(/^- kafka topics +needs a Kafka connection$/m);
    expect(res.stdout).toMatch(/^✓ flags /m);
    expect(res.stdout).toMatch(/^1 check failed$/m);
  });

  it('no brokers, a flag file that does not parse, a schema that does not parse: each failure with its fix', async () => {
    const cwd = await workdir({ 'flags.json': '{"flags": {"a": 1,}}\n' });
    await mkdir(path.join(cwd, 'schemas/Broken'), { recursive: true });
    await writeFile(path.join(cwd, 'schemas/Broken/1.json'), '{\n  "type": "object",\n}\n');
    const res = await runCli(['doctor', '--json'], { cwd, env: { KAFKA_BROKERS: '' } });
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout) as Report;
    expect(check(report, 'kafka')).toMatchObject({ status: 'fail', message: 'no Kafka brokers configured', fix: expect.stringContaining('npm run kafka:start, then export KAFKA_BROKERS=') });
    expect(check(report, 'flags')).toMatchObject({ status: 'fail', message: expect.stringMatching(/flag file flags\.json does not load: .*flags\.json:1:\d+: flag file is not valid JSON/), fix: expect.stringContaining('flagd format') });
    expect(check(report, 'schemas')).toMatchObject({ status: 'fail', message: expect.stringContaining('schemas/Broken/1.json:3:1: schema is not valid JSON'), fix: expect.stringContaining('migrate schema lint') });
  });

  it.skipIf(os.userInfo().uid === 0)('a flag file that cannot be rewritten fails with its fix', async () => {
    const cwd = await goodWorld();
    await chmod(path.join(cwd, 'flags.json'), 0o444);
    const res = await runCli(['doctor', '--json'], { cwd, env: { KAFKA_BROKERS: '' } });
    expect(check(JSON.parse(res.stdout) as Report, 'flags')).toMatchObject({ status: 'fail', fix: expect.stringContaining('writable') });
  });

  it('a bad configuration is reported as the config check, the rest skipped', async () => {
    const cwd = await workdir({ 'migrate.config.yaml': 'kafka:\n  brokerz: [127.0.0.1:9092]\n' });
    const res = await runCli(['doctor', '--json'], { cwd, env: { KAFKA_BROKERS: '' } });
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout) as Report;
    expect(check(report, 'config')).toMatchObject({ status: 'fail', message: expect.stringMatching(/^migrate\.config\.yaml:2:3: .*brokerz/) });
    expect(check(report, 'kafka')?.status).toBe('skipped');
  });
});
