// The error a user gets for bad input, as the CLI prints it: exit 2, one line naming
// file:line:col, no stack trace, nothing on stdout. The corpus of malformed and hostile input
// (and that it changes no file) is test/reliability/bad-input.test.ts.
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { migrateBin, runCli, workdir } from '../support/cli.js';

const cases: Record<string, { file: string; args?: string[]; error: RegExp }> = {
  'malformed YAML': {
    file: 'name: x\nsteps:\n  - id: a\n    uses: confirm\n    with: { message: "unclosed }\n',
    error: /^error: pb\.yaml:\d+:\d+: Missing closing "quote/,
  },
  'an unknown step type': {
    file: 'name: x\nsteps:\n  - id: a\n    uses: kafka.topik\n',
    error: /^error: pb\.yaml:4:11: unknown step type "kafka\.topik"/,
  },
  'a missing required param': {
    file: 'name: x\nparams:\n  topic: { required: true }\nsteps:\n  - id: a\n    uses: confirm\n',
    error: /^error: pb\.yaml:3:3: missing required param "topic"/,
  },
  'a bad template': {
    file: 'name: x\nsteps:\n  - id: a\n    uses: confirm\n    with:\n      message: "${{ params.topic | upper }}"\n',
    error: /^error: pb\.yaml:6:17: bad template/,
  },
};

describe('error messages for bad input', () => {
  for (const [what, c] of Object.entries(cases)) {
    it(`${what}: exit 2, one line with file:line:col, no stack trace`, async () => {
      const cwd = await workdir({ 'pb.yaml': c.file });
      const res = await runCli(['run', 'pb.yaml', ...(c.args ?? [])], { cwd });
      expect(res.code).toBe(2);
      const lines = res.stderr.trimEnd().split('\n');
      expect(lines, res.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(c.error);
      expect(res.stderr).not.toMatch(/\n\s+at /);
      expect(res.stdout).toBe('');
    });
  }

  it('a corrupt state file: exit 2 with file:line:col', async () => {
    const cwd = await workdir({ 'pb.yaml': 'name: x\nsteps:\n  - id: a\n    uses: confirm\n' });
    const { mkdir, writeFile } = await import('node:fs/promises');
    await mkdir(`${cwd}/.migrate`);
    await writeFile(`${cwd}/.migrate/x.json`, '{\n  "version": 1,\n  "name": "x",\n}\n');
    const res = await runCli(['run', 'pb.yaml'], { cwd });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/\.migrate\/x\.json:4:1: state file is not valid JSON: trailing comma/);
  });

  it('unknown commands and options: exit 2', async () => {
    const cwd = await workdir();
    expect((await runCli(['frobnicate'], { cwd })).code).toBe(2);
    expect((await runCli(['run'], { cwd })).code).toBe(2);
    expect((await runCli(['run', 'x', '--bogus'], { cwd })).code).toBe(2);
  });
});

describe('output to a reader that went away', () => {
  it('`migrate rollback --help | true` stops quietly with 141 (as on SIGPIPE), no stack trace', async () => {
    // `true` exits without reading: the help is written into a pipe nobody reads any more (EPIPE).
    const out = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile('bash', ['-c', `"${process.execPath}" "${migrateBin}" rollback --help | true; echo "rc=\${PIPESTATUS[0]}"`], (err, stdout, stderr) =>
        err ? reject(err) : resolve({ stdout, stderr }),
      ),
    );
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe('rc=141');
  });
});
