/**
 * Small Markdown helpers for the reports migrate writes (`migrate report`, the GitHub Actions job
 * summary): text from runs goes into tables and code spans without breaking them.
 */
import type { ReportFormat } from './report-format.js';

/** Text safe inside a GitHub-flavoured Markdown table cell: pipes escaped, line breaks kept as <br>, no raw HTML. */
export function mdCell(text: string): string {
  return escapeHtml(text)
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, '<br>');
}

/** Inline code that survives backticks in the text (a longer fence, padded when needed). */
export function mdCode(text: string): string {
  const oneLine = text.replace(/\r?\n/g, ' ');
  const longest = Math.max(0, ...[...oneLine.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  const pad = oneLine.startsWith('`') || oneLine.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${oneLine}${pad}${fence}`;
}

/** Inline code for a table cell: pipes must be escaped even inside code spans there. */
export function mdCodeCell(text: string): string {
  return mdCode(text).replace(/\|/g, '\\|');
}

/** A fenced code block whose fence is longer than any backtick run inside. */
export function mdBlock(text: string, lang = ''): string {
  const longest = Math.max(0, ...[...text.matchAll(/`{3,}/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${text.replace(/\n$/, '')}\n${fence}\n`;
}

/** A table: head and rows are already cell-safe (use mdCell / mdCodeCell). */
export function mdTable(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}

/** The report as GitHub-flavoured Markdown: what `migrate report` has always printed. */
export const markdownFormat: ReportFormat = {
  inlinesCharts: false,
  cell: mdCell,
  codeCell: mdCodeCell,
  code: mdCode,
  bold: (safe) => `**${safe}**`,
  block: mdBlock,
  table: mdTable,
  heading: (level, safe) => (level === 1 ? `# ${safe}\n\n` : `\n## ${safe}\n\n`),
  para: (safe) => `${safe}\n\n`,
  empty: (safe) => `${safe}\n`,
  details: (summary, body) => `<details><summary>${summary}</summary>\n\n${body}\n</details>\n`,
  footer: (safe) => `\n---\n${safe}\n`,
  // Only a link: GitHub strips inline <svg> and data: images from Markdown (report.md says where each works).
  chart: (c) => (c.file ? `![${mdText(c.title)}](${encodeURI(c.file)})\n\n` : `- ${mdText(c.title)}\n`),
};

/** Plain text safe in a Markdown paragraph: HTML neutralised, Markdown punctuation that starts markup escaped. */
export function mdText(text: string): string {
  return escapeHtml(text).replace(/([\\`*_[\]#|~])/g, '\\$1');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
