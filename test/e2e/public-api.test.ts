import { execFile } from 'node:child_process';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { workdir } from '../support/cli.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const tsc = path.join(repoRoot, 'node_modules/typescript/bin/tsc');

/** A step type as a team writes it in TypeScript, against the shipped declarations only. */
const consumer = `import { defineStep, z, type Check, type KafkaCluster, type StepContext } from 'migrate';

export default defineStep({
  type: 'acme.topic-count',
  params: z.object({ min: z.number().int().default(1) }).strict(),
  describe: (p) => \`at least \${p.min.toFixed(0)} topics\`,
  async check(p, ctx: StepContext): Promise<Check> {
    const kafka: KafkaCluster = await ctx.kafka();
    const n = (await kafka.listTopics()).length;
    ctx.progress({ message: \`\${n} topics\`, metrics: { n } });
    return n >= p.min ? { done: true, outputs: { n } } : { done: false, summary: \`\${n} topics\` };
  },
  needs: ['kafka'],
  timeoutMs: 60_000,
  intervalMs: 1_000,
});
`;

const tsconfig = JSON.stringify({
  compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, types: ['node'] },
  files: ['step.ts'],
});

async function compile(source: string): Promise<{ code: number; out: string }> {
  // The consumer's repository: migrate installed in node_modules (this build, as npm i -D would), and @types/node.
  const cwd = await workdir({ 'tsconfig.json': tsconfig, 'step.ts': source, 'package.json': '{"type":"module"}' });
  await mkdir(path.join(cwd, 'node_modules'));
  await symlink(repoRoot, path.join(cwd, 'node_modules/migrate'), 'dir');
  await symlink(path.join(repoRoot, 'node_modules/@types'), path.join(cwd, 'node_modules/@types'), 'dir');
  try {
    const { stdout } = await run(process.execPath, [tsc, '-p', cwd], { cwd });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

describe("the public API: import { defineStep, z } from 'migrate'", () => {
  it('a TypeScript step type compiles against the shipped .d.ts, with its params inferred', async () => {
    const ok = await compile(consumer);
    expect(ok.out).toBe('');
    expect(ok.code).toBe(0);
  }, 120_000);

  it('the declarations are real types: a wrong use does not compile', async () => {
    const wrong = await compile(consumer.replace('p.min.toFixed(0)', 'p.max').replace("{ done: true, outputs: { n } }", "{ done: 'yes' }"));
    expect(wrong.code).not.toBe(0);
    expect(wrong.out).toMatch(/step\.ts\(\d+,\d+\): error TS2339: Property 'max' does not exist/);
    expect(wrong.out).toMatch(/step\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'boolean'/);
  }, 120_000);

  it('the package ships the declarations, the API and the guide', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot });
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]?.files.map((f) => f.path) ?? [];
    expect(files).toEqual(expect.arrayContaining(['bin/migrate', 'dist/api.js', 'dist/api.d.ts', 'dist/steps/contract.d.ts', 'docs/writing-a-step-type.md', 'docs/steps/kafka.topic.md']));
  }, 120_000);
});
