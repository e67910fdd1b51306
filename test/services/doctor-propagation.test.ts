// migrate doctor with flags.propagation: the evaluation endpoint flag.set will wait on is asked
// once (a flag it does not know) against the real flagd of test/support/flagd-setup.ts, and a
// port nobody listens on fails with what to fix.
import { describe, expect, it } from 'vitest';
import { freePorts } from '../../scripts/kafka-lib.mjs';
import { runCli, workdir, type CliResult } from '../support/cli.js';

type Doctor = { ok: boolean; checks: { name: string; status: string; message: string; fix?: string }[] };
const check = (r: CliResult, name: string) => (JSON.parse(r.stdout) as Doctor).checks.find((c) => c.name === name);

describe('migrate doctor: flag propagation', () => {
  it('ok when the OFREP endpoint answers; fail, with the fix, when nothing listens', async () => {
    const url = process.env.FLAGD_OFREP_URL;
    if (!url) throw new Error('FLAGD_OFREP_URL is not set: is test/support/flagd-setup.ts the globalSetup?');
    const cwd = await workdir({ 'flags.json': '{"flags": {}}', 'migrate.config.yaml': `flags:\n  propagation: { ofrep: "${url}" }\n` });
    const ok = await runCli(['doctor', '--json'], { cwd });
    expect(check(ok, 'propagation')).toMatchObject({ status: 'ok', message: `OFREP at ${url} answers: flag.set waits until it serves each switch` });

    const [port] = await freePorts(1);
    const dead = await workdir({ 'flags.json': '{"flags": {}}', 'migrate.config.yaml': `flags:\n  propagation: { ofrep: "http://127.0.0.1:${port}" }\n` });
    const failed = await runCli(['doctor', '--json'], { cwd: dead });
    expect(failed.code).not.toBe(0);
    expect(check(failed, 'propagation')?.status).toBe('fail');
    expect(check(failed, 'propagation')?.fix).toContain('MIGRATE_FLAGS_OFREP_URL');

    // Without propagation configured there is no such check.
    const none = await runCli(['doctor', '--json'], { cwd: await workdir({ 'flags.json': '{"flags": {}}' }) });
    expect(check(none, 'propagation')).toBeUndefined();
  });
});
