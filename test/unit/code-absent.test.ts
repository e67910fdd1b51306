import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StepContext } from '../../src/steps/contract.js';
import { stepContext } from '../support/step-context.js';
import { codeAbsentStep } from '../../src/steps/code-absent.js';

/** A temp directory holding the given files (paths with "/" create directories). */
async function tree(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'migrate-code-'));
  for (const [name, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), content);
  }
  return dir;
}

function context(cwd: string): StepContext {
  return stepContext({ cwd });
}

const check = (cwd: string, p: Record<string, unknown>) => codeAbsentStep.check(codeAbsentStep.params.parse(p), context(cwd));

describe('code.absent', () => {
  it('is done when the pattern occurs nowhere, counting the files scanned', async () => {
    const cwd = await tree({ 'src/a.ts': 'await publish(event)\n', 'src/lib/b.ts': 'export const x = 1\n', 'README.md': 'fetch("/api/v0/orders")' });
    expect(await check(cwd, { pattern: String.raw`fetch\(.*/api/v0/orders`, paths: ['src'] })).toEqual({
      done: true,
      summary: 'the pattern occurs nowhere in 2 files',
      outputs: { filesScanned: 2 },
    });
  });

  it('names file:line of every occurrence, at most 10, and the count', async () => {
    const files: Record<string, string> = {
      'src/a.ts': 'import x\n\nconst r = await fetch(`${base}/api/v0/orders`)\n',
      'src/b.ts': 'one\r\ntwo\r\nthree\r\nfetch("/api/v0/orders/1")\r\n',
    };
    for (let i = 0; i < 12; i++) files[`src/many/m${String(i).padStart(2, '0')}.ts`] = `x\nfetch('/api/v0/orders')\n`;
    const cwd = await tree(files);
    const result = await check(cwd, { pattern: String.raw`fetch\(.*/api/v0/orders`, paths: ['src'] });
    expect(result.done).toBe(false);
    expect(result.summary).toBe(
      'the pattern still occurs 14 times: src/a.ts:3, src/b.ts:4, ' +
        Array.from({ length: 8 }, (_, i) => `src/many/m0${i}.ts:2`).join(', ') +
        ', and 4 more',
    );
  });

  it('skips binary files and the excluded directories, and honours regex flags', async () => {
    const cwd = await tree({
      'app/logo.png': Buffer.concat([Buffer.from('PNG\0\0'), Buffer.from('\nOrdersClient\n')]),
      'app/node_modules/dep/index.js': 'new OrdersClient()',
      'app/dist/out.js': 'new OrdersClient()',
      'app/custom/gen.ts': 'new OrdersClient()',
      'app/main.ts': 'const c = new ordersclient()\n',
    });
    expect(await check(cwd, { pattern: 'OrdersClient', paths: ['app'], exclude: ['node_modules', 'dist', 'custom'] })).toEqual({
      done: true,
      summary: 'the pattern occurs nowhere in 1 file (1 binary skipped)',
      outputs: { filesScanned: 1 },
    });
    expect(await check(cwd, { pattern: 'OrdersClient', paths: ['app'], exclude: ['node_modules', 'dist', 'custom'], flags: 'i' })).toMatchObject({
      done: false,
      summary: 'the pattern still occurs 1 time: app/main.ts:1',
    });
    expect(await check(cwd, { pattern: 'OrdersClient', paths: ['app'] })).toMatchObject({
      done: false,
      summary: 'the pattern still occurs 1 time: app/custom/gen.ts:1',
    });
  });

  it('follows symlinks without looping, and accepts a single file as a path', async () => {
    const cwd = await tree({ 'src/a.ts': 'legacyCall()\n', 'src/deep/b.ts': 'ok\n' });
    await symlink(path.join(cwd, 'src'), path.join(cwd, 'src/deep/loop'));
    await symlink(path.join(cwd, 'nowhere'), path.join(cwd, 'src/dangling'));
    const result = await check(cwd, { pattern: 'legacyCall', paths: ['src'] });
    expect(result).toMatchObject({ done: false, summary: 'the pattern still occurs 1 time: src/a.ts:1' });
    expect(await check(cwd, { pattern: 'legacyCall', paths: 'src/deep/b.ts' })).toMatchObject({ done: true, outputs: { filesScanned: 1 } });
  });

  it('streams big files line by line', async () => {
    const big = 'a line of ordinary code\n'.repeat(200_000) + 'the legacyCall is here\n' + 'tail'.repeat(50_000);
    const cwd = await tree({ 'big.ts': big });
    expect(await check(cwd, { pattern: 'legacyCall', paths: ['.'] })).toMatchObject({ done: false, summary: 'the pattern still occurs 1 time: big.ts:200001' });
  });

  it('a missing path is an error naming it', async () => {
    const cwd = await tree({ 'src/a.ts': '' });
    await expect(check(cwd, { pattern: 'x', paths: ['src', 'lib/old'] })).rejects.toThrow(/^path lib\/old does not exist/);
  });

  it('rejects an invalid pattern or flags, and empty paths, before the run', () => {
    const bad = (p: Record<string, unknown>) => codeAbsentStep.params.safeParse(p).error?.issues.map((i) => [i.path.join('.'), i.message]);
    expect(bad({ pattern: 'fetch(', paths: ['src'] })).toEqual([['pattern', expect.stringMatching(/^not a valid regular expression: .*Unterminated group/)]]);
    expect(bad({ pattern: 'x', paths: ['src'], flags: 'q' })).toEqual([['flags', expect.stringContaining('not a valid regular expression')]]);
    expect(bad({ pattern: 'x', paths: [] })).toEqual([['paths', 'name at least one file or directory']]);
    expect(codeAbsentStep.timeoutMs).toBe(0);
  });
});
