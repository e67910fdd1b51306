// A worked step plugin (docs/writing-a-step-type.md): `file.line` makes sure a line is in a text
// file, e.g. `EXERCISES_EVENTS=async` in a service's deploy env. It looks before it acts (check),
// adds the line (apply), takes it out again on rollback (undo), reports progress while the line is
// missing, and records outputs that later steps read as ${{ steps.<id>.outputs.* }}.
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defineStep, z } from 'migrate';

/** The file's lines, or undefined when there is no such file. */
async function readLines(file, signal) {
  try {
    const text = await readFile(file, { encoding: 'utf8', signal });
    return text.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
  } catch (err) {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Replaces the file in one step, so a run killed halfway leaves the old file or the new one, never half of it. */
async function writeLines(file, lines) {
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, lines.map((l) => `${l}\n`).join(''));
  await rename(temp, file);
}

export default defineStep({
  type: 'file.line',
  docs: 'https://example.com/docs/writing-a-step-type#the-worked-plugin',
  params: z
    .object({
      file: z.string().min(1).describe('the file, relative to the working directory'),
      line: z.string().min(1).refine((l) => !l.includes('\n'), 'one line, without a newline').describe('the exact line that must be in the file'),
      create: z.boolean().default(true).describe('create the file when it does not exist'),
    })
    .strict(),
  describe: (p) => `line "${p.line}" in ${p.file}`,

  // Read-only: is the line there already?
  async check(p, ctx) {
    const file = path.resolve(ctx.cwd, p.file);
    const lines = await readLines(file, ctx.signal);
    const at = lines?.indexOf(p.line) ?? -1;
    if (at >= 0) return { done: true, summary: `${p.file}:${at + 1} has the line`, outputs: { file: p.file, lineNumber: at + 1 } };
    if (!lines && !p.create) throw new Error(`${p.file} does not exist (create: false)`);
    ctx.progress({ message: `${p.file} lacks the line (${lines?.length ?? 0} lines read)`, metrics: { lines: lines?.length ?? 0 } });
    return { done: false, summary: lines ? `${p.file} lacks the line` : `${p.file} does not exist yet` };
  },

  // Make it so; the engine checks again afterwards, and only then is the step done.
  async apply(p, ctx) {
    const file = path.resolve(ctx.cwd, p.file);
    const lines = (await readLines(file, ctx.signal)) ?? [];
    if (!lines.includes(p.line)) await writeLines(file, [...lines, p.line]);
    return { added: true };
  },

  // Rollback: take out the line this step added (outputs.added), nothing else.
  async undo(p, ctx, outputs) {
    if (!outputs.added) return;
    const file = path.resolve(ctx.cwd, p.file);
    const lines = await readLines(file, ctx.signal);
    if (lines?.includes(p.line)) await writeLines(file, lines.filter((l) => l !== p.line));
  },

  timeoutMs: 10_000,
  intervalMs: 200,
});
