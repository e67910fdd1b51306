import { padVisible, visibleWidth } from './text.js';

/** One table cell: its text, and a style applied after padding so colors never break alignment. */
export interface Cell {
  text: string;
  style?: (s: string) => string;
  align?: 'left' | 'right';
}

export interface TableOptions {
  /** Spaces between columns. */
  gap?: number;
  /** Put before every line. */
  indent?: string;
}

/** Lays rows out in aligned columns; the last column is not padded, so lines carry no trailing spaces. */
export function formatTable(rows: readonly (readonly (Cell | string)[])[], o: TableOptions = {}): string[] {
  const gap = ' '.repeat(o.gap ?? 2);
  const cells = rows.map((r) => r.map((c): Cell => (typeof c === 'string' ? { text: c } : c)));
  const columns = Math.max(0, ...cells.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(0, ...cells.map((r) => (r[i] ? visibleWidth(r[i].text) : 0))));
  // Columns empty in every row take no room (and no gap).
  const shown = widths.map((w) => w > 0);
  return cells.map((r) => {
    const parts: string[] = [];
    r.forEach((cell, i) => {
      if (!shown[i]) return;
      const last = r.slice(i + 1).every((c, j) => !shown[i + 1 + j] || !c.text);
      const padded = last && cell.align !== 'right' ? cell.text : padVisible(cell.text, widths[i] as number, cell.align);
      parts.push(cell.style ? styleText(padded, cell.text, cell.style) : padded);
    });
    return ((o.indent ?? '') + parts.join(gap)).trimEnd();
  });
}

/** Styles only the text inside its padding, so underlines and backgrounds do not run into the gap. */
function styleText(padded: string, text: string, style: (s: string) => string): string {
  if (!text) return padded;
  const at = padded.indexOf(text);
  return padded.slice(0, at) + style(text) + padded.slice(at + text.length);
}
