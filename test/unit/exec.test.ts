import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../src/errors.js';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { listStepTypes } from '../../src/commands/steps.js';
import { previewRollback } from '../../src/engine/rollback.js';
import { bindPlaybook } from '../../src/playbook/bind.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { stepProvides } from '../../src/steps/contract.js';
import { clip, commandLine, execStep, readOutput } from '../../src/steps/exec.js';
import { TailBuffer } from '../../src/util/tail.js';

function problems(yaml: string): string[] {
  try {
    bindPlaybook(parsePlaybook('pb.yaml', yaml), {}, {});
  } catch (err) {
    if (err instanceof InvalidInputError) return err.problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.message}`);
    throw err;
  }
  throw new Error('expected an InvalidInputError');
}

const playbook = (withBlock: string) => `name: t
steps:
  - id: roll
    uses: exec
    with:
${withBlock}`;

function tail(limit: number, ...chunks: string[]): TailBuffer {
  const t = new TailBuffer(limit);
  for (const c of chunks) t.push(Buffer.from(c));
  return t;
}

describe('exec params', () => {
  it('refuses an empty command, a non-string argument and a missing check, each at its place in the file', () => {
    expect(problems(playbook('      check: []\n'))).toEqual([expect.stringMatching(/^pb\.yaml:6:14: exec: steps\[0\]\.with\.check: the command is empty/)]);
    expect(problems(playbook('      check: ["kubectl", 3]\n'))).toEqual([expect.stringMatching(/^pb\.yaml:6:26: exec: steps\[0\]\.with\.check\[1\]: .*expected string/)]);
    expect(problems(playbook('      apply: ["true"]\n'))).toEqual([expect.stringMatching(/^pb\.yaml:\d+:\d+: exec: steps\[0\]\.with\.check: expected a command as an argv array/)]);
    expect(problems(playbook('      check: ["", "x"]\n'))).toEqual([expect.stringMatching(/^pb\.yaml:6:15: exec: steps\[0\]\.with\.check\[0\]: the program name is empty/)]);
  });

  it('says how to split a command line given as one string, and that a shell script is one string', () => {
    expect(problems(playbook('      check: ["kubectl rollout status deploy/x"]\n'))[0]).toContain(
      'is a whole command line in one string: split it into an argv array (["kubectl", "rollout", "status", "deploy/x"]), or set shell: true',
    );
    expect(problems(playbook('      check: ["test", "-f", "x"]\n      shell: true\n'))[0]).toContain('with shell: true a command is one script string');
    expect(execStep.params.safeParse({ check: ['test -f x && echo ok'], shell: true }).success).toBe(true);
  });

  it('refuses undo without apply, a bad environment name and an unknown key', () => {
    expect(problems(playbook('      check: ["true"]\n      undo: ["true"]\n'))[0]).toContain('undo without apply');
    expect(problems(playbook('      check: ["true"]\n      env: { "1X": a }\n'))[0]).toContain('an environment variable name');
    expect(problems(playbook('      check: ["true"]\n      args: []\n'))[0]).toContain('unknown key "args"');
  });

  it('takes env values from params and the declared environment, as strings', () => {
    const yaml = `name: t
params:
  token: { secret: true, required: true }
env: [KUBECONFIG]
steps:
  - id: roll
    uses: exec
    with:
      check: ["true"]
      env: { TOKEN: "\${{ params.token }}", KUBECONFIG: "\${{ env.KUBECONFIG }}", REPLICAS: 3 }
`;
    const bound = bindPlaybook(parsePlaybook('pb.yaml', yaml), { token: 's3cret' }, { KUBECONFIG: '/k/config' });
    expect((bound.steps[0]?.params as { env: unknown }).env).toEqual({ TOKEN: 's3cret', KUBECONFIG: '/k/config', REPLICAS: '3' });
  });

  it('acts only with apply, undoes only with undo, and lets plan run check only when it is declared read-only', () => {
    const wait = execStep.params.parse({ check: ['true'] });
    const act = execStep.params.parse({ check: ['true'], apply: ['touch', 'x'] });
    const both = execStep.params.parse({ check: ['true'], apply: ['touch', 'x'], undo: ['rm', 'x'], readOnlyCheck: true });
    expect(stepProvides(execStep, wait)).toEqual({ apply: false, undo: false });
    expect(stepProvides(execStep, act)).toEqual({ apply: true, undo: false });
    expect(stepProvides(execStep, both)).toEqual({ apply: true, undo: true });
    expect(execStep.plan?.unsafeLook?.(act)).toContain('plan runs it only with readOnlyCheck: true');
    expect(execStep.plan?.unsafeLook?.(both)).toBeUndefined();
    expect(execStep.describe(act)).toBe('run `touch x` until `true` succeeds');
    expect(execStep.describe(wait)).toBe('wait until `true` succeeds');
  });

  it('is listed by migrate steps as acting and undoing as its params give, with its params described', async () => {
    const listed = await listStepTypes({ cwd: await mkdtemp(path.join(os.tmpdir(), 'migrate-steps-')), env: {} });
    const exec = listed.find((t) => t.type === 'exec');
    expect(exec).toMatchObject({ apply: true, undo: true, byParams: true, docs: expect.stringMatching(/docs\/steps\/exec\.md$/) as string });
    expect(exec?.params.map((p) => [p.name, p.required, Boolean(p.description)])).toEqual(
      ['check', 'apply', 'undo', 'env', 'cwd', 'shell', 'outputLimit', 'readOnlyCheck'].map((n) => [n, n === 'check', true]),
    );
    expect(listed.find((t) => t.type === 'flag.set')?.byParams).toBeUndefined();
  });
});

describe('exec output', () => {
  it('keeps only the last bytes of a long output, and drops the partial line at the cut', () => {
    const t = new TailBuffer(1024);
    for (let i = 0; i < 10_000; i++) t.push(Buffer.from(`line ${i}\n`));
    expect(t.text().length).toBe(1024);
    expect(t.truncated).toBe(true);
    expect(t.lastLines(2)).toEqual(['line 9998', 'line 9999']);
    const kept = t.lastLines(1000);
    expect(kept[0]).toMatch(/^line \d+$/);
    expect(Number(kept[0]?.slice(5)) + kept.length - 1).toBe(9999);
  });

  it('cuts one chunk larger than the limit to its end', () => {
    const t = tail(1024, 'a\n', 'x'.repeat(5000) + '\nlast\n');
    expect(t.text()).toHaveLength(1024);
    expect(t.dropped).toBe(2 + 5006 - 1024);
    expect(t.lastLines(5)).toEqual(['last']);
  });

  it('reads a last stdout line that is a JSON object as outputs, and the line before it as the summary', () => {
    const out = tail(1024, 'rolling out\n3 of 3 replicas updated\n{"revision": 7, "image": "app:1.2"}\n\n');
    expect(readOutput({ stdout: out, output: out })).toEqual({ summary: '3 of 3 replicas updated', outputs: { revision: 7, image: 'app:1.2' } });
  });

  it('takes no outputs from a line that only looks like JSON, an array, or JSON before the last line', () => {
    const brace = tail(1024, '{not json}\n');
    expect(readOutput({ stdout: brace, output: brace })).toEqual({ summary: '{not json}' });
    const array = tail(1024, '[1, 2]\n');
    expect(readOutput({ stdout: array, output: array })).toEqual({ summary: '[1, 2]' });
    const earlier = tail(1024, '{"a": 1}\ndone\n');
    expect(readOutput({ stdout: earlier, output: earlier })).toEqual({ summary: 'done' });
  });

  it('falls back to the last stderr line when stdout is empty', () => {
    expect(readOutput({ stdout: tail(1024), output: tail(1024, 'error: deployment "x" not found\n') })).toEqual({ summary: 'error: deployment "x" not found' });
    expect(readOutput({ stdout: tail(1024), output: tail(1024) })).toEqual({});
  });

  it('cuts a long line at a space, never inside a word (a secret cut in two would escape its mask)', () => {
    const secret = 'tok-' + 'x'.repeat(40);
    const line = `${'word '.repeat(55)}${secret} and more`;
    expect(clip(line)).toBe(`${'word '.repeat(55).trimEnd()} …`);
    expect(clip(secret.repeat(10))).toBe('…');
    expect(clip('short line')).toBe('short line');
  });

  it('quotes the arguments of a command line where a shell would need it', () => {
    expect(commandLine(['kubectl', 'rollout', 'status', 'deploy/app', '--timeout=1s'])).toBe('kubectl rollout status deploy/app --timeout=1s');
    expect(commandLine(['sh', '-c', "echo 'hi' there"])).toBe(`sh -c 'echo '\\''hi'\\'' there'`);
  });
});

describe('exec under rollback', () => {
  it('resets a wait, undoes with undo, and says plainly that an apply without undo stays', () => {
    const text = `name: rollout
steps:
  - id: deployed
    uses: exec
    with: { check: ["kubectl", "get", "deploy/app"], apply: ["kubectl", "apply", "-f", "app.yaml"] }
  - id: rolled-out
    uses: exec
    with: { check: ["kubectl", "rollout", "status", "deploy/app"] }
  - id: scaled
    uses: exec
    with: { check: ["./scaled.sh"], apply: ["./scale.sh", "3"], undo: ["./scale.sh", "1"] }
`;
    const bound = bindPlaybook(parsePlaybook('rollout.yaml', text), {}, {});
    const state = {
      version: 1 as const,
      name: 'r',
      playbook: { name: 'rollout', ref: 'rollout.yaml', file: 'rollout.yaml', checksum: bound.loaded.checksum },
      params: {},
      paramsChecksum: 'x',
      status: 'completed' as const,
      createdAt: '',
      updatedAt: '',
      steps: bound.steps.map((s) => ({ id: s.spec.id, uses: s.spec.uses, status: 'done' as const, attempts: 1 })),
      history: [],
    };
    expect(previewRollback(state, bound).steps.map((s) => [s.id, s.action, s.reason])).toEqual([
      ['scaled', 'undo', 'put back what this did: run `./scale.sh 3` until `./scaled.sh` succeeds'],
      ['rolled-out', 'reset', 'it only looked at the world: nothing to undo'],
      ['deployed', 'not-undoable', 'exec: it has no undo command; what its apply did is kept'],
    ]);
  });
});
