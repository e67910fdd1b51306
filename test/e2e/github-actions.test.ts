import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { events, runCli, unique, workdir } from '../support/cli.js';
import { gatedPlaybook, unreachablePlaybook as unreachable } from '../support/playbooks.js';

const gated = gatedPlaybook({ partitions: 1, message: 'Switch to async: 100% sure?' });

describe('migrate run in GitHub Actions (GITHUB_ACTIONS=true)', () => {
  it('annotates the gate and the completion, and appends a job summary per invocation', async () => {
    const topic = unique('gha');
    const cwd = await workdir({ 'gated.yaml': gated });
    const summary = path.join(cwd, 'summary.md');
    const env = { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary };
    const run = `gated-${topic}`;

    const paused = await runCli(['run', 'gated.yaml', '-p', `topic=${topic}`], { cwd, env });
    expect(paused.code, paused.stderr).toBe(3);
    expect(paused.stdout).toContain(
      `::notice title=approve::Run ${run} is waiting for approval: Switch to async: 100%25 sure?%0AContinue with: migrate run gated.yaml --name ${run} --approve approve\n`,
    );
    const first = await readFile(summary, 'utf8');
    expect(first).toContain(`### migrate: run \`${run}\` paused at \`approve\``);
    expect(first).toContain('| Step | Status | Duration | Summary |');
    expect(first).toMatch(/\| `create` \| ✅ done \| \d+ms \| topic .* exists with 1 partitions \|/);
    expect(first).toContain('| `approve` | ⏸️ waiting |  | Switch to async: 100% sure? |');
    expect(first).toContain('| `switch` | ⚪ pending |  |  |');
    expect(first).toContain(`\`\`\`sh\nmigrate run gated.yaml --name ${run} --approve approve\n\`\`\``);

    // --json keeps stdout pure NDJSON: the workflow commands go to stderr.
    const done = await runCli(['run', 'gated.yaml', '--name', run, '--approve', 'approve', '--json'], { cwd, env });
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout.split('\n').filter(Boolean).every((l) => l.startsWith('{'))).toBe(true);
    expect(events(done.stdout).at(-1)).toMatchObject({ type: 'run.finished', status: 'completed' });
    expect(done.stderr).toMatch(new RegExp(`^::notice title=${run}::Run ${run} completed in \\d+m?s$`, 'm'));
    const both = await readFile(summary, 'utf8');
    expect(both.startsWith(first)).toBe(true);
    const second = both.slice(first.length);
    expect(second).toContain(`### migrate: run \`${run}\` completed`);
    expect(second).toContain('| `approve` | ✅ done | 0ms | approved by ');
    expect(second).toMatch(/\| `switch` \| ✅ done \| \d+ms \| flag .* is on in flag file/);
    expect(second).not.toContain('Continue with');
  });

  it('warns on retries and puts an error annotation on the failed step', async () => {
    const cwd = await workdir({ 'unreachable.yaml': unreachable });
    const summary = path.join(cwd, 'summary.md');
    const res = await runCli(['run', 'unreachable.yaml'], { cwd, env: { KAFKA_BROKERS: '127.0.0.1:1', GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary } });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^::warning title=create::cannot .*127\.0\.0\.1:1.*; retry 1 in 500ms$/m);
    expect(res.stdout).toMatch(/^::error title=create::cannot .*did not answer.*%0AFix the cause and run the same command again to resume\.$/m);
    const md = await readFile(summary, 'utf8');
    expect(md).toContain('### migrate: run `unreachable` failed at `create`');
    expect(md).toMatch(/\| `create` \| ❌ failed \| {2}\| cannot .* did not answer/);
  });

  it('a run that never starts (bad input, exit 2) annotates the job with the message and its position', async () => {
    const cwd = await workdir({
      'broken.yaml': 'name: broken\nsteps:\n  - id: a\n    uses: kafka.nope\n',
      'ok.yaml': 'name: ok\nsteps:\n  - id: a\n    uses: confirm\n    with: { message: Go? }\n',
    });
    const res = await runCli(['run', 'broken.yaml'], { cwd, env: { GITHUB_ACTIONS: 'true' } });
    expect(res.code).toBe(2);
    // On the playbook's line, so GitHub shows it beside that line.
    expect(res.stderr).toMatch(/^::error file=broken\.yaml,line=4,col=11,title=migrate \(exit 2\)::broken\.yaml:4:11: unknown step type "kafka\.nope"/m);

    // An error without a position (here: a run name with a path in it) still annotates the job.
    const named = await runCli(['run', 'ok.yaml', '--name', '../evil'], { cwd, env: { GITHUB_ACTIONS: 'true' } });
    expect(named.code).toBe(2);
    expect(named.stderr).toMatch(/^::error title=migrate \(exit 2\)::"\.\.\/evil" is not a valid run name/m);
    const plain = await runCli(['run', 'broken.yaml'], { cwd, env: { GITHUB_ACTIONS: '' } });
    expect(plain.code).toBe(2);
    expect(plain.stderr + plain.stdout).not.toContain('::error');
  });

  it('prints nothing for GitHub when GITHUB_ACTIONS is not true', async () => {
    const cwd = await workdir({ 'unreachable.yaml': unreachable });
    const res = await runCli(['run', 'unreachable.yaml'], { cwd, env: { KAFKA_BROKERS: '127.0.0.1:1', GITHUB_ACTIONS: '', GITHUB_STEP_SUMMARY: path.join(cwd, 's.md') } });
    expect(res.code).toBe(1);
    expect(res.stdout).not.toContain('::');
    await expect(readFile(path.join(cwd, 's.md'), 'utf8')).rejects.toThrow(/ENOENT/);
  });
});
