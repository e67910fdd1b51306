/**
 * How `migrate report` writes its pieces: the same report as Markdown (report-markdown.ts) or as
 * one self-contained HTML page (report-html.ts). Cells and code are made safe by the format;
 * `table`, `heading`, `details` and the rest take pieces the format already made safe.
 */
export interface ReportFormat {
  /** Whether a chart can sit in the document itself (HTML), or only be linked from it (Markdown). */
  inlinesCharts: boolean;
  /** Plain text in a table cell. */
  cell(text: string): string;
  /** Code (an id, a command) in a table cell. */
  codeCell(text: string): string;
  /** Inline code in running text. */
  code(text: string): string;
  bold(safe: string): string;
  /** A block of code, e.g. the command that continues a paused run. */
  block(text: string, lang?: string): string;
  table(head: string[], rows: string[][]): string;
  /** A heading: level 1 for the title, 2 for sections. */
  heading(level: 1 | 2, safe: string): string;
  /** A paragraph. */
  para(safe: string): string;
  /** A short line that says a section is empty. */
  empty(safe: string): string;
  /** Content folded away behind a summary line. */
  details(summary: string, body: string): string;
  /** The closing line, set apart by a rule. */
  footer(safe: string): string;
  /** A chart: an image link to `file` (Markdown), or the SVG itself (HTML). */
  chart(c: { title: string; svg: string; file?: string }): string;
}
