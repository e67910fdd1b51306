// The exec step through the CLI, with real child processes: a team's command runs once across a
// SIGKILL of migrate and a resume, is stopped with everything it started on timeout and Ctrl-C,
// keeps a secret passed in env out of every output and file, and is refused at load time when its
// params are bad. (In process, at the step's depth: test/integration/exec.test.ts.)
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, events, runCli, startCli, workdir } from '../support/cli.js';
import { allGone, familyPids, familyWorkdir, gone, killAll } from '../support/process-family.js';

const node = JSON.stringify(process.execPath);
const started: number[] = [];
afterEach(() => killAll(started.splice(0)));

/** Every file under `dir`, as text (the state, its lock, anything migrate wrote). */
async function filesUnder(dir: string): Promise<string> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out.push(await readFile(path.join(entry.parentPath, entry.name), 'utf8'));
  }
  return out.join('\n');
}

describe('exec step, as a user runs it', () => {
  it('runs apply once across a SIGKILL of migrate during apply and a resume: the resumed run checks first and finds it done', async () => {
    const cwd = await workdir({
      // The rollout takes effect at once (as `kubectl apply` does), then waits for a long time.
      'apply.mjs': `import { appendFileSync, writeFileSync } from 'node:fs';
appendFileSync('applied', 'x');
writeFileSync('rolled-out', 'v2');
writeFileSync('apply.pid', String(process.pid));
console.log('rolling out');
setInterval(() => {}, 1000);
`,
      'check.mjs': `import { existsSync, readFileSync } from 'node:fs';
if (!existsSync('rolled-out')) { console.log('v1 serving'); process.exit(1); }
console.log('serving ' + readFileSync('rolled-out', 'utf8'));
console.log(JSON.stringify({ version: readFileSync('rolled-out', 'utf8') }));
`,
      'once.yaml': `name: once
steps:
  - id: rollout
    uses: exec
    timeout: 10m
    with: { check: [${node}, check.mjs], apply: [${node}, apply.mjs] }
  - id: after
    uses: exec
    with: { check: ["echo", "version \${{ steps.rollout.outputs.version }}"] }
`,
    });
    const first = startCli(['run', 'once.yaml', '--json'], { cwd });
    const applyPid = await eventually(async () => Number(await readFile(path.join(cwd, 'apply.pid'), 'utf8')));
    started.push(applyPid);
    first.kill('SIGKILL');
    expect((await first.result).signal).toBe('SIGKILL');

    const second = await runCli(['run', 'once.yaml', '--json'], { cwd });
    expect(second.code, second.stderr).toBe(0);
    const ev = events(second.stdout);
    expect(ev.filter((e) => e.step === 'rollout').map((e) => e.type)).toEqual(['step.started', 'step.checked', 'step.done']);
    expect(ev.find((e) => e.type === 'step.done' && e.step === 'after')?.summary).toBe('version v2');
    expect(await readFile(path.join(cwd, 'applied'), 'utf8')).toBe('x');
    // migrate cannot catch its own SIGKILL: the command it was running lives on, in a group of its own.
    expect(await gone(applyPid)).toBe(false);
  });

  it("stops the command's whole process group when the step times out: no process it started is left", async () => {
    const cwd = await familyWorkdir({ timeout: '2s', check: [process.execPath, 'family.mjs'] });
    const run = startCli(['run', 'pb.yaml'], { cwd });
    const family = await familyPids(cwd);
    started.push(...family);
    const res = await run.result;
    expect(res.code, res.stderr).toBe(1);
    expect(res.stdout + res.stderr).toContain("timed out after 2s: check `");
    expect(res.stdout + res.stderr).toContain("was still running at the step's timeout; its process group was stopped");
    await allGone(family);
  });

  it('passes Ctrl-C on to the command, exits 130 with the run saved, and resumes', async () => {
    const check = [process.execPath, '-e', "process.exit(require('fs').existsSync('released') ? 0 : 1)"];
    const cwd = await familyWorkdir({ timeout: '10m', check, apply: [process.execPath, 'family.mjs'] }, 'exit');
    const run = startCli(['run', 'pb.yaml'], { cwd });
    const family = await familyPids(cwd);
    started.push(...family);
    run.kill('SIGINT');
    const res = await run.result;
    expect(res.code, res.stderr).toBe(130);
    expect(await readFile(path.join(cwd, 'trapped'), 'utf8')).toBe('SIGTERM');
    await allGone(family);
    const state = JSON.parse(await readFile(path.join(cwd, '.migrate', 'pb.json'), 'utf8')) as { status: string; pausedAt: string; steps: { status: string }[] };
    expect([state.status, state.pausedAt, state.steps[0]?.status]).toEqual(['paused', 'interrupted', 'pending']);

    await writeFile(path.join(cwd, 'released'), '');
    const again = await runCli(['run', 'pb.yaml'], { cwd });
    expect(again.code, again.stderr).toBe(0);
  });

  it('keeps a secret param passed in env out of output, --json, the state and the report, even when the command prints it', async () => {
    const secret = 'hunter2-s3cr3t-value';
    const cwd = await workdir({
      'secret.yaml': `name: secret
params:
  token: { secret: true, required: true }
steps:
  - id: deploy
    uses: exec
    with:
      check: ["/bin/sh", "-c", "if [ -f deployed ]; then echo \\"deployed with $TOKEN\\"; echo \\"{\\\\\\"token\\\\\\": \\\\\\"$TOKEN\\\\\\"}\\"; else echo \\"not deployed ($TOKEN)\\"; exit 1; fi"]
      apply: ["/bin/sh", "-c", "echo \\"using $TOKEN\\"; if [ -f second ]; then touch deployed; else touch second; echo \\"denied for $TOKEN\\" >&2; exit 3; fi"]
      env: { TOKEN: "\${{ params.token }}" }
`,
    });
    const failed = await runCli(['run', 'secret.yaml', '-p', `token=${secret}`, '--json'], { cwd });
    expect(failed.code).toBe(1);
    const failure = events(failed.stdout).find((e) => e.type === 'step.failed');
    expect(failure?.error).toBe("apply `/bin/sh -c 'echo \"using $TOKEN\"; if [ -f second ]; then touch deployed; else touch second; echo \"denied for $TOKEN\" >&2; exit 3; fi'` exited with code 3; its last output:\n  using ***\n  denied for ***");
    const human = await runCli(['run', 'secret.yaml', '-p', `token=${secret}`], { cwd });
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('deployed with ***');
    const status = await runCli(['status', 'secret', '--json'], { cwd });
    const report = await runCli(['report', 'secret'], { cwd });
    expect(report.code).toBe(0);
    expect(report.stdout).toContain('denied for ***');
    const everything = [failed, human, status, report].map((r) => r.stdout + r.stderr).join('\n') + (await filesUnder(cwd));
    expect(everything).toContain('***');
    expect(everything).not.toContain(secret);
  });

  it('migrate plan runs no check unless the step says it is read-only', async () => {
    const touch = (file: string) => ['/bin/sh', '-c', `touch ${file}; echo looked`];
    const steps = [
      { id: 'unknown', uses: 'exec', with: { check: touch('unknown-ran'), apply: ['true'] } },
      { id: 'read-only', uses: 'exec', with: { check: touch('read-only-ran'), apply: ['true'], readOnlyCheck: true } },
    ];
    const cwd = await workdir({ 'plan.yaml': JSON.stringify({ name: 'plan', steps }) });
    const res = await runCli(['plan', 'plan.yaml', '--json'], { cwd });
    expect(res.code, res.stderr).toBe(0);
    const planned = (JSON.parse(res.stdout) as { steps: { id: string; verdict: string; reason: string }[] }).steps;
    expect(planned.map((s) => [s.id, s.verdict])).toEqual([
      ['unknown', 'cannot check'],
      ['read-only', 'satisfied'],
    ]);
    expect(planned[0]?.reason).toContain('plan runs it only with readOnlyCheck: true');
    expect([existsSync(path.join(cwd, 'unknown-ran')), existsSync(path.join(cwd, 'read-only-ran'))]).toEqual([false, true]);
  });

  it('fails a step whose command does not exist with one clear line, no stack trace', async () => {
    const step = { id: 'rollout', uses: 'exec', with: { check: ['kubectl-not-installed-here', 'rollout', 'status', 'deploy/app'] } };
    const cwd = await workdir({ 'missing.yaml': JSON.stringify({ name: 'missing', steps: [step] }) });
    const res = await runCli(['run', 'missing.yaml'], { cwd });
    expect(res.code).toBe(1);
    expect(res.stdout + res.stderr).toContain('exec: command not found: kubectl-not-installed-here (check)');
    expect(res.stdout + res.stderr).not.toMatch(/\n\s+at /);
    expect(res.stdout + res.stderr).not.toContain('this is a bug');
  });

  it('refuses bad params before anything runs: exit 2 with file:line:col', async () => {
    const cwd = await workdir({
      'bad.yaml': `name: bad
steps:
  - id: first
    uses: exec
    with: { check: ["touch", "ran"], apply: ["true"] }
  - id: empty
    uses: exec
    with: { check: [] }
  - id: number
    uses: exec
    with:
      check: ["kubectl", "scale", "--replicas", 3]
`,
    });
    for (const command of ['run', 'validate']) {
      const res = await runCli([command, 'bad.yaml'], { cwd });
      const printed = res.stdout + res.stderr;
      expect(res.code).toBe(2);
      expect(printed).toMatch(/bad\.yaml:8:20: exec: steps\[1\]\.with\.check: the command is empty/);
      expect(printed).toMatch(/bad\.yaml:12:49: exec: steps\[2\]\.with\.check\[3\]: .*expected string/);
      expect(printed).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(path.join(cwd, 'ran'))).toBe(false);
  });
});
