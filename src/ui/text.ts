// Width-aware text helpers for output that may carry ANSI color codes. A column is what a
// terminal gives a character: CJK and most emoji take two, combining marks and zero-width joiners
// none, and an emoji sequence (a ZWJ family, a flag) is one cluster of two. string-width knows the
// Unicode tables; we cut only between grapheme clusters, so a sequence is never split.
import { createRequire } from 'node:module';
import type stringWidthOf from 'string-width';

// eslint-disable-next-line no-control-regex
const ansiPattern = /\x1b\[[0-9;?]*[A-Za-z]/g;
// eslint-disable-next-line no-control-regex
const ansiAt = /\x1b\[[0-9;?]*[A-Za-z]/y;

/**
 * Characters that always take one column and form a grapheme cluster of their own: ASCII, Latin,
 * punctuation, arrows, box drawing, shapes, braille and the icons we print (✓ ✗ ⏸ ⏭ ⚠). Text made
 * only of these is measured by counting; a unit test checks every one against string-width.
 */
export const narrowOnly = /^[\x20-\x7e\xa0-\xac\xae-\u02ff\u2010-\u2027\u2030-\u205e\u2190-\u2319\u232b-\u23e8\u23ed-\u23ef\u23f1\u23f2\u23f4-\u25fc\u26a0\u2713\u2717\u2800-\u28ff]*$/;

let libraryWidth: typeof stringWidthOf | undefined;
let segmenter: Intl.Segmenter | undefined;

/** Columns plain text (no escape codes) takes. */
function plainWidth(s: string): number {
  if (narrowOnly.test(s)) return s.length;
  // string-width compiles Unicode's emoji sets as it loads (some 30 ms of CPU), so it is loaded
  // only for text that needs it, synchronously: every Node in package.json's engines can require
  // an ES module.
  libraryWidth ??= (createRequire(import.meta.url)('string-width') as { default: typeof stringWidthOf }).default;
  // Stripped with our own pattern, so measuring and fitWidth's cutting agree on what an escape code is.
  return libraryWidth(s, { countAnsiEscapeCodes: true });
}

/** The grapheme clusters of plain text, with where each starts. */
function clusters(s: string): Iterable<{ segment: string; index: number }> {
  if (narrowOnly.test(s)) return [...s].map((segment, index) => ({ segment, index }));
  segmenter ??= new Intl.Segmenter();
  return segmenter.segment(s);
}

/** The text without ANSI escape sequences. */
export function stripAnsi(s: string): string {
  return s.replace(ansiPattern, '');
}

/** Columns the text takes on a terminal. */
export function visibleWidth(s: string): number {
  return plainWidth(stripAnsi(s));
}

/** Pads with spaces to `width` visible columns (never cuts). */
export function padVisible(s: string, width: number, align: 'left' | 'right' = 'left'): string {
  const pad = ' '.repeat(Math.max(0, width - visibleWidth(s)));
  return align === 'left' ? s + pad : pad + s;
}

/**
 * The longest start of plain text that fits in `width` columns, cut between grapheme clusters;
 * with `atLeastOne`, the first cluster even if it is wider.
 */
function fittingStart(s: string, width: number, atLeastOne = false): string {
  let used = 0;
  let end = 0;
  for (const { segment, index } of clusters(s)) {
    used += plainWidth(segment);
    if (used > width && !(atLeastOne && index === 0)) break;
    end = index + segment.length;
  }
  return s.slice(0, end);
}

/** Cuts the text to `width` visible columns, ending in "…" when cut; color codes are kept and reset. */
export function fitWidth(s: string, width: number): string {
  if (visibleWidth(s) <= width) return s;
  if (width <= 0) return '';
  let out = '';
  let room = width - 1; // the "…" takes the last column
  let colored = false;
  for (let i = 0; i < s.length; ) {
    ansiAt.lastIndex = i;
    const m = ansiAt.exec(s);
    if (m) {
      out += m[0];
      colored = true;
      i += m[0].length;
      continue;
    }
    // The plain run up to the next escape code, cut to the columns left.
    const next = s.indexOf('\x1b', i + 1);
    const run = s.slice(i, next === -1 ? s.length : next);
    const kept = fittingStart(run, room);
    out += kept;
    if (kept.length < run.length) break;
    room -= plainWidth(run);
    i += run.length;
  }
  return out + '…' + (colored ? '\x1b[0m' : '');
}

/** Word-wraps plain text to lines of at most `width` columns (a word wider than that is cut). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (!line) line = word;
      else if (plainWidth(line) + 1 + plainWidth(word) <= width) line += ' ' + word;
      else {
        lines.push(line);
        line = word;
      }
      while (plainWidth(line) > width) {
        // At least one cluster a line, so a cluster wider than the width cannot loop forever.
        const head = fittingStart(line, width, true);
        if (head === line) break;
        lines.push(head);
        line = line.slice(head.length);
      }
    }
    lines.push(line);
  }
  return lines;
}
