import { mkdir, readFile, symlink, writeFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { events, runCli, startCli, workdir } from '../support/cli.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const workedPlugin = path.join(repoRoot, 'examples/plugins/file-line.mjs');
const STACK_TRACE = /\n\s+at .+:\d+:\d+/;

/**
 * A team's repository as it would be: migrate installed in node_modules (a symlink to this build,
 * as `npm i -D migrate` would put it there), a config naming its plugins, and the given files.
 */
async function teamRepo(files: Record<string, string>, config = 'plugins:\n  - plugins\n'): Promise<string> {
  const cwd = await workdir();
  await mkdir(path.join(cwd, 'node_modules'));
  await symlink(repoRoot, path.join(cwd, 'node_modules', 'migrate'), 'dir');
  await writeFile(path.join(cwd, 'migrate.config.yaml'), config);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(cwd, name)), { recursive: true });
    await writeFile(path.join(cwd, name), text);
  }
  return cwd;
}

const switchEnv = `name: switch-env
params:
  service: { required: true }
steps:
  - id: env-line
    uses: file.line
    with: { file: "deploy/\${{ params.service }}.env", line: "EXERCISES_EVENTS=async" }
  - id: note
    uses: file.line
    with: { file: deploy/NOTES, line: "line \${{ steps.env-line.outputs.lineNumber }} of \${{ steps.env-line.outputs.file }}" }
`;

describe('the worked plugin of docs/writing-a-step-type.md (examples/plugins/file-line.mjs)', () => {
  async function repo(): Promise<string> {
    const cwd = await teamRepo({ 'playbooks/switch-env.yaml': switchEnv, 'deploy/exercises.env': 'PORT=8080\n' });
    await mkdir(path.join(cwd, 'plugins'));
    await copyFile(workedPlugin, path.join(cwd, 'plugins', 'file-line.mjs'));
    return cwd;
  }

  it('is listed by migrate steps, validates, runs, is looked at before it acts, and rolls back', async () => {
    const cwd = await repo();
    const steps = await runCli(['steps', '--json'], { cwd });
    expect(steps.code, steps.stderr).toBe(0);
    const listed = (JSON.parse(steps.stdout) as { steps: { type: string; source: string }[] }).steps;
    expect(listed.find((s) => s.type === 'kafka.topic')).toMatchObject({ source: 'built-in', apply: true, docs: expect.stringMatching(/docs\/steps\/kafka\.topic\.md$/) });
    expect(listed.find((s) => s.type === 'file.line')).toEqual({
      type: 'file.line',
      source: 'plugin',
      file: path.join('plugins', 'file-line.mjs'),
      docs: 'https://example.com/docs/writing-a-step-type#the-worked-plugin',
      apply: true,
      undo: true,
      gate: false,
      needs: [],
      timeoutMs: 10_000,
      intervalMs: 200,
      params: [
        { name: 'file', type: 'string', required: true, description: 'the file, relative to the working directory' },
        { name: 'line', type: 'string', required: true, description: 'the exact line that must be in the file' },
        { name: 'create', type: 'boolean', required: false, default: true, description: 'create the file when it does not exist' },
      ],
    });
    const one = await runCli(['steps', 'file.line'], { cwd });
    expect(one.stdout).toMatch(/^file\.line {2}plugin plugins\/file-line\.mjs$/m);
    expect(one.stdout).toMatch(/^ {4}create +boolean +default true +create the file when it does not exist$/m);

    const valid = await runCli(['validate', 'switch-env', '-p', 'service=exercises'], { cwd });
    expect(valid.code, valid.stdout + valid.stderr).toBe(0);
    // The plugin's own zod schema, positioned in the playbook like a built-in's.
    await writeFile(path.join(cwd, 'playbooks/bad.yaml'), 'name: bad\nsteps:\n  - id: a\n    uses: file.line\n    with: { file: x, line: 3 }\n');
    const bad = await runCli(['validate', 'bad'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/^playbooks\/bad\.yaml:5:28: file\.line: steps\[0\]\.with\.line: .*expected string/m);

    const run = await runCli(['run', 'switch-env', '-p', 'service=exercises', '--json'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    expect(await readFile(path.join(cwd, 'deploy/exercises.env'), 'utf8')).toBe('PORT=8080\nEXERCISES_EVENTS=async\n');
    // Outputs reach later steps through templates; progress reaches the events.
    expect(await readFile(path.join(cwd, 'deploy/NOTES'), 'utf8')).toBe('line 2 of deploy/exercises.env\n');
    const ran = events(run.stdout);
    expect(ran.find((e) => e.type === 'step.progress' && e.step === 'env-line')).toMatchObject({ progress: { message: 'deploy/exercises.env lacks the line (1 lines read)', metrics: { lines: 1 } } });
    expect(ran.filter((e) => e.type === 'step.applied').map((e) => e.step)).toEqual(['env-line', 'note']);

    // Another run finds the world as declared: it looks, and does not act.
    const again = await runCli(['run', 'switch-env', '-p', 'service=exercises', '--name', 'again', '--json'], { cwd });
    expect(again.code, again.stderr).toBe(0);
    expect(events(again.stdout).filter((e) => e.type === 'step.applied')).toEqual([]);
    expect(await readFile(path.join(cwd, 'deploy/exercises.env'), 'utf8')).toBe('PORT=8080\nEXERCISES_EVENTS=async\n');

    const back = await runCli(['rollback', 'switch-env', '--yes'], { cwd });
    expect(back.code, back.stdout + back.stderr).toBe(0);
    expect(await readFile(path.join(cwd, 'deploy/exercises.env'), 'utf8')).toBe('PORT=8080\n');
    expect(await readFile(path.join(cwd, 'deploy/NOTES'), 'utf8')).toBe('');
  });

  it('a run killed (SIGKILL) after the plugin acted resumes without acting again', async () => {
    const cwd = await repo();
    // A second step that waits until the old call is gone from the code, so the kill lands while it waits.
    await writeFile(path.join(cwd, 'src.js'), 'fetch("/api/v0/exercises")\n');
    await writeFile(
      path.join(cwd, 'playbooks/wait.yaml'),
      switchEnv.replace('name: switch-env', 'name: wait') + '  - id: call-gone\n    uses: code.absent\n    timeout: 10m\n    with: { pattern: "/api/v0/exercises", paths: [src.js] }\n',
    );
    const first = startCli(['run', 'wait', '-p', 'service=exercises', '--json'], { cwd });
    await first.untilStdout(/"type":"step\.started"[^\n]*"step":"call-gone"/);
    first.kill('SIGKILL');
    expect((await first.result).signal).toBe('SIGKILL');

    await writeFile(path.join(cwd, 'src.js'), 'publish("exercises")\n');
    const resumed = await runCli(['run', 'wait', '-p', 'service=exercises', '--json'], { cwd });
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = events(resumed.stdout);
    expect(after[0]).toMatchObject({ type: 'run.started', resumed: true });
    expect(after.filter((e) => e.type === 'step.applied')).toEqual([]);
    expect(await readFile(path.join(cwd, 'deploy/exercises.env'), 'utf8')).toBe('PORT=8080\nEXERCISES_EVENTS=async\n');
  });
});

/** A plugin that records what it sees of its StepContext, and notices when its signal aborts. */
const contextProbe = `import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { defineStep, z } from 'migrate';
export default defineStep({
  type: 'acme.context-probe',
  params: z.object({ wait: z.boolean().default(false) }).strict(),
  describe: () => 'what a plugin sees',
  async check(p, ctx) {
    if (ctx.memory.applied && !p.wait) return { done: true, summary: 'seen' };
    if (p.wait) {
      ctx.signal.addEventListener('abort', () => writeFileSync(path.join(ctx.cwd, 'aborted'), String(ctx.signal.reason)));
      ctx.progress({ message: 'waiting for Ctrl-C' });
    }
    return { done: false, summary: 'not yet', ...(p.wait ? { wait: true } : {}) };
  },
  async apply(p, ctx) {
    ctx.memory.applied = true;
    return { cwd: ctx.cwd, run: ctx.run, step: ctx.step, signal: ctx.signal instanceof AbortSignal && !ctx.signal.aborted, services: [typeof ctx.kafka, typeof ctx.flags, typeof ctx.schemas, typeof ctx.now, typeof ctx.defer] };
  },
  timeoutMs: 600000,
  intervalMs: 100,
});
`;

describe('plugins get the StepContext of built-ins', () => {
  it('cwd, run, step, signal and the services; Ctrl-C aborts its signal and the run exits 130', async () => {
    const cwd = await teamRepo({
      'plugins/probe.mjs': contextProbe,
      'probe.yaml': 'name: probe\nsteps:\n  - id: look\n    uses: acme.context-probe\n',
      'wait.yaml': 'name: wait\nsteps:\n  - id: hold\n    uses: acme.context-probe\n    with: { wait: true }\n',
    });
    const run = await runCli(['run', 'probe.yaml', '--json'], { cwd });
    expect(run.code, run.stderr).toBe(0);
    const applied = events(run.stdout).find((e) => e.type === 'step.applied');
    expect(applied?.outputs).toEqual({ cwd, run: 'probe', step: 'look', signal: true, services: ['function', 'function', 'function', 'function', 'function'] });

    const waiting = startCli(['run', 'wait.yaml', '--json'], { cwd });
    await waiting.untilStdout(/waiting for Ctrl-C/);
    waiting.kill('SIGINT');
    expect((await waiting.result).code).toBe(130);
    expect(await readFile(path.join(cwd, 'aborted'), 'utf8')).toMatch(/interrupted by SIGINT/);
  });
});

const okPlugin = (type: string) => `export default { type: '${type}', params: { safeParse: (v) => ({ success: true, data: v }) }, describe: () => 'ok', check: async () => ({ done: true }), timeoutMs: 1000, intervalMs: 100 };\n`;
const uses = (type: string) => `name: p\nsteps:\n  - id: a\n    uses: ${type}\n`;

describe('a broken plugin is bad input naming its file (exit 2, one line, no stack trace)', () => {
  const cases: { name: string; files: Record<string, string>; config?: string; says: RegExp }[] = [
    {
      name: 'a syntax error, at its line and column',
      files: { 'plugins/broken.mjs': "export default {\n  type: 'acme.x',,\n};\n" },
      says: /^plugins\/broken\.mjs:2:18: SyntaxError: Unexpected token ','$/m,
    },
    {
      name: 'an import that throws, where it throws',
      files: { 'plugins/throws.mjs': "const ok = 1;\nthrow new Error('no credentials here');\n" },
      says: /^plugins\/throws\.mjs:2:7: cannot load the plugin: no credentials here$/m,
    },
    { name: 'no default export', files: { 'plugins/named.mjs': 'export const step = {};\n' }, says: /^plugins\/named\.mjs: no default export/m },
    {
      name: 'no check',
      files: { 'plugins/nocheck.mjs': okPlugin('acme.nocheck').replace("check: async () => ({ done: true }), ", '') },
      says: /^plugins\/nocheck\.mjs: missing "check" \(a function\)$/m,
    },
    {
      name: 'params that are not a zod schema',
      files: { 'plugins/params.mjs': okPlugin('acme.params').replace(/params: \{.*?\}\) \},/, "params: { file: 'string' },") },
      says: /^plugins\/params\.mjs: "params" is not a zod schema \(it has no safeParse method\)$/m,
    },
    {
      name: 'a type that shadows a built-in',
      files: { 'plugins/topic.mjs': okPlugin('kafka.topic') },
      says: /^plugins\/topic\.mjs: step type "kafka\.topic" is built in; a plugin cannot replace it/m,
    },
    {
      name: 'a type another plugin defines already',
      files: { 'plugins/a.mjs': okPlugin('acme.twice'), 'plugins/b.mjs': okPlugin('acme.twice') },
      says: /^plugins\/b\.mjs: step type "acme\.twice" is already defined by plugins\/a\.mjs$/m,
    },
    {
      name: 'a timeout that is not a number of milliseconds',
      files: { 'plugins/timeout.mjs': okPlugin('acme.timeout').replace('timeoutMs: 1000', "timeoutMs: '10m'") },
      says: /^plugins\/timeout\.mjs: "timeoutMs" must be a number of milliseconds above 0, not "10m"$/m,
    },
    { name: 'a plugins: entry that does not exist, at its place in the config', files: {}, config: 'plugins:\n  - plugins\n  - missing\n', says: /^migrate\.config\.yaml:3:5: plugins\[1\]: missing does not exist/m },
    { name: 'a TypeScript file named in plugins:', files: { 'step.ts': 'export default {}\n' }, config: 'plugins:\n  - step.ts\n', says: /^migrate\.config\.yaml:2:5: plugins: step\.ts is not a \.js or \.mjs file \(TypeScript: compile it to \.js first\)$/m },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const cwd = await teamRepo({ 'plugins/.keep': '', ...c.files, 'p.yaml': uses('confirm') }, c.config);
      for (const args of [['validate', 'p.yaml'], ['steps'], ['run', 'p.yaml', '--yes']]) {
        const res = await runCli(args, { cwd });
        expect(res.code, `${args.join(' ')}: ${res.stdout}${res.stderr}`).toBe(2);
        const said = res.stdout + res.stderr;
        // validate lists problems on stdout; the other commands say them at the error boundary.
        expect(said).toMatch(new RegExp(c.says.source.replace(/^\^/, '^(error: )?'), 'm'));
        expect(said).not.toMatch(STACK_TRACE);
      }
    });
  }

  it('params from another zod (anything with safeParse) still point into the playbook', async () => {
    // What zod 3 and zod 4 both return: issues with a path into the with: block.
    const foreign = okPlugin('acme.count').replace(
      /params: \{.*?\}\) \},/,
      "params: { safeParse: (v) => typeof v.n === 'number' ? { success: true, data: v } : { success: false, error: { issues: [{ code: 'invalid_type', path: ['n'], message: 'expected a number' }] } } },",
    );
    const cwd = await teamRepo({ 'plugins/count.mjs': foreign, 'p.yaml': `${uses('acme.count')}    with: { n: "many" }\n` });
    const res = await runCli(['validate', 'p.yaml'], { cwd });
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('p.yaml:5:16: acme.count: steps[0].with.n: expected a number\n');
    const listed = JSON.parse((await runCli(['steps', 'acme.count', '--json'], { cwd })).stdout) as { steps: unknown[] };
    expect(listed.steps).toEqual([expect.objectContaining({ type: 'acme.count', params: [], paramsNote: 'not a zod 4 schema (zod 3, or another library), so its params cannot be listed' })]);
  });

  it('files starting with _ in a plugin folder are helpers, not plugins', async () => {
    const cwd = await teamRepo({ 'plugins/_shared.mjs': 'export const x = 1;\n', 'plugins/ok.mjs': okPlugin('acme.ok'), 'p.yaml': uses('acme.ok') });
    const res = await runCli(['run', 'p.yaml'], { cwd });
    expect(res.code, res.stdout + res.stderr).toBe(0);
  });

  it('without plugins, an unknown type says where step types of your own come from', async () => {
    const cwd = await workdir({ 'p.yaml': uses('acme.backfill') });
    const res = await runCli(['run', 'p.yaml'], { cwd });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^error: p\.yaml:4:11: unknown step type "acme\.backfill"/m);
    expect(res.stderr).toMatch(/^hint: a step type of your own\? list its plugin under plugins: in migrate\.config\.yaml/m);
  });
});

describe('docs/writing-a-step-type.md', () => {
  it('shows the worked plugin exactly as examples/plugins/file-line.mjs has it', async () => {
    const doc = await readFile(path.join(repoRoot, 'docs/writing-a-step-type.md'), 'utf8');
    const block = /<!-- examples\/plugins\/file-line\.mjs -->\n```js\n([\s\S]*?)```\n/.exec(doc)?.[1];
    expect(block).toBe(await readFile(workedPlugin, 'utf8'));
  });
});
