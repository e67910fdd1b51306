// Width-aware text helpers for output that may carry ANSI color codes. Every character counts as
// one column: the icons and box characters used here are all narrow.

// eslint-disable-next-line no-control-regex
const ansiPattern = /\x1b\[[0-9;?]*[A-Za-z]/g;
// eslint-disable-next-line no-control-regex
const ansiAt = /\x1b\[[0-9;?]*[A-Za-z]/y;

/** The text without ANSI escape sequences. */
export function stripAnsi(s: string): string {
  return s.replace(ansiPattern, '');
}

/** Columns the text takes on a terminal. */
export function visibleWidth(s: string): number {
  return [...stripAnsi(s)].length;
}

/** Pads with spaces to `width` visible columns (never cuts). */
export function padVisible(s: string, width: number, align: 'left' | 'right' = 'left'): string {
  const pad = ' '.repeat(Math.max(0, width - visibleWidth(s)));
  return align === 'left' ? s + pad : pad + s;
}

/** Cuts the text to `width` visible columns, ending in "…" when cut; color codes are kept and reset. */
export function fitWidth(s: string, width: number): string {
  if (visibleWidth(s) <= width) return s;
  if (width <= 0) return '';
  let out = '';
  let used = 0;
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
    const ch = String.fromCodePoint(s.codePointAt(i) as number);
    if (used === width - 1) break;
    out += ch;
    used += 1;
    i += ch.length;
  }
  return out + '…' + (colored ? '\x1b[0m' : '');
}

/** Word-wraps plain text to lines of at most `width` columns (a word longer than that is cut). */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (!line) line = word;
      else if (line.length + 1 + word.length <= width) line += ' ' + word;
      else {
        lines.push(line);
        line = word;
      }
      while (line.length > width) {
        lines.push(line.slice(0, width));
        line = line.slice(width);
      }
    }
    lines.push(line);
  }
  return lines;
}
