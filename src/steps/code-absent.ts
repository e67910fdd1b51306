import { createReadStream, type Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { z } from 'zod';
import { defineStep } from './contract.js';

const params = z
  .object({
    /** A JavaScript regular expression, matched against each line. */
    pattern: z.string().min(1),
    /** Files or directories, relative to the working directory. */
    paths: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.string().min(1)).min(1, 'name at least one file or directory')),
    /** Directory names skipped wherever they occur below the given paths. */
    exclude: z.array(z.string().min(1)).default(['node_modules', '.git', 'dist', '.migrate']),
    flags: z.string().optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    try {
      new RegExp(p.pattern, p.flags);
    } catch (err) {
      const field = p.flags !== undefined && !isValidFlags(p.flags) ? 'flags' : 'pattern';
      ctx.addIssue({ code: 'custom', path: [field], message: `not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}` });
    }
  });

type CodeAbsentParams = z.infer<typeof params>;

/** Bytes looked at to decide a file is binary, as git and grep do: a NUL byte in them. */
const BINARY_SNIFF_BYTES = 8192;
/** Locations named in the summary. */
const SHOWN = 10;

/** Where the pattern was found. */
interface Occurrence {
  file: string;
  line: number;
}

/** What a scan found. */
interface ScanResult {
  filesScanned: number;
  binarySkipped: number;
  total: number;
  /** The first few occurrences, in walk order. */
  shown: Occurrence[];
}

/**
 * code.absent: a pattern (the old sync call) no longer occurs under the given paths. Looks once by
 * default: code does not change while a run waits, so a finding is reported at once.
 */
export const codeAbsentStep = defineStep({
  type: 'code.absent',
  params,
  timeoutMs: 0,
  intervalMs: 1000,
  describe: (p) => `/${p.pattern}/${p.flags ?? ''} occurs nowhere in ${p.paths.join(', ')}`,

  async check(p, ctx) {
    const found = await scanForPattern(p, ctx.cwd, ctx.signal);
    const skipped = found.binarySkipped ? ` (${found.binarySkipped} binary skipped)` : '';
    if (found.total === 0) {
      return {
        done: true,
        summary: `the pattern occurs nowhere in ${found.filesScanned} ${found.filesScanned === 1 ? 'file' : 'files'}${skipped}`,
        outputs: { filesScanned: found.filesScanned },
      };
    }
    const where = found.shown.map((o) => `${o.file}:${o.line}`);
    if (found.total > found.shown.length) where.push(`and ${found.total - found.shown.length} more`);
    return { done: false, summary: `the pattern still occurs ${found.total} ${found.total === 1 ? 'time' : 'times'}: ${where.join(', ')}` };
  },
});

/** Walks the paths and counts the lines where the pattern occurs (one per line). */
export async function scanForPattern(p: CodeAbsentParams, cwd: string, signal?: AbortSignal): Promise<ScanResult> {
  // Lines are tested one at a time, so the stateful flags (g, y) would only make test() skip matches.
  const regex = new RegExp(p.pattern, (p.flags ?? '').replace(/[gy]/g, ''));
  const exclude = new Set(p.exclude);
  const result: ScanResult = { filesScanned: 0, binarySkipped: 0, total: 0, shown: [] };
  /** Directories already walked, by device and inode: a symlink loop or a second way in is walked once. */
  const seen = new Set<string>();

  const scanFile = async (file: string) => {
    let lines: number[] | 'binary';
    try {
      lines = await matchingLines(file, regex);
    } catch (err) {
      if (isGone(err)) return; // removed while walking
      throw err;
    }
    if (lines === 'binary') {
      result.binarySkipped += 1;
      return;
    }
    result.filesScanned += 1;
    result.total += lines.length;
    for (const line of lines) {
      if (result.shown.length >= SHOWN) break;
      result.shown.push({ file: display(cwd, file), line });
    }
  };

  const walk = async (dir: string, info: Stats): Promise<void> => {
    const id = `${info.dev}:${info.ino}`;
    if (seen.has(id)) return;
    seen.add(id);
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (signal?.aborted) throw signal.reason;
      const full = path.join(dir, entry.name);
      let s: Stats;
      try {
        s = await stat(full); // follows symlinks; `seen` keeps loops out
      } catch (err) {
        if (isGone(err)) continue; // a dangling symlink, or removed while walking
        throw err;
      }
      if (s.isDirectory()) {
        if (!exclude.has(entry.name)) await walk(full, s);
      } else if (s.isFile()) {
        await scanFile(full);
      }
    }
  };

  for (const given of p.paths) {
    const full = path.resolve(cwd, given);
    let s: Stats;
    try {
      s = await stat(full);
    } catch (err) {
      if (isGone(err)) throw new Error(`path ${given} does not exist (looked in ${full})`);
      throw err;
    }
    if (s.isDirectory()) await walk(full, s);
    else if (s.isFile()) await scanFile(full);
    else throw new Error(`path ${given} is neither a file nor a directory`);
  }
  return result;
}

/**
 * The 1-based numbers of the lines where the regex matches, or 'binary' when a NUL byte occurs in
 * the first 8 KB. Streams the file, so memory stays bounded by the longest line.
 */
async function matchingLines(file: string, regex: RegExp): Promise<number[] | 'binary'> {
  const stream = createReadStream(file, { highWaterMark: 64 * 1024 });
  const decoder = new StringDecoder('utf8');
  const found: number[] = [];
  let sniffed = 0;
  let pending = '';
  let lineNo = 0;
  const test = (line: string) => {
    lineNo += 1;
    if (regex.test(line.endsWith('\r') ? line.slice(0, -1) : line)) found.push(lineNo);
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (sniffed < BINARY_SNIFF_BYTES) {
        const head = chunk.subarray(0, BINARY_SNIFF_BYTES - sniffed);
        if (head.includes(0)) return 'binary';
        sniffed += head.length;
      }
      const parts = (pending + decoder.write(chunk)).split('\n');
      pending = parts.pop() as string;
      for (const line of parts) test(line);
    }
  } finally {
    stream.destroy();
  }
  const last = pending + decoder.end();
  if (last !== '') test(last);
  return found;
}

function isValidFlags(flags: string): boolean {
  try {
    new RegExp('', flags);
    return true;
  } catch {
    return false;
  }
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A path as the user wrote it: relative to the working directory, with forward slashes. */
function display(cwd: string, file: string): string {
  const rel = path.relative(cwd, file);
  return (rel === '' || rel.startsWith('..') ? file : rel).split(path.sep).join('/');
}
