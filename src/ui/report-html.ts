/**
 * `migrate report --format html`: the report as one self-contained page, for sharing (an artifact,
 * an attachment): inline CSS and inline SVG charts, no script, nothing fetched from anywhere.
 */
import { xmlText } from '../util/xml.js';
import type { ReportFormat } from './report-format.js';

const esc = (text: string) => xmlText(text);

/** The report's pieces as HTML; every text from the run is escaped. */
export const htmlFormat: ReportFormat = {
  inlinesCharts: true,
  cell: (text) => esc(text).replace(/\r?\n/g, '<br>'),
  codeCell: (text) => `<code>${esc(text)}</code>`,
  code: (text) => `<code>${esc(text)}</code>`,
  bold: (safe) => `<strong>${safe}</strong>`,
  block: (text) => `<pre><code>${esc(text.replace(/\n$/, ''))}</code></pre>\n`,
  table: (head, rows) => {
    const headRow = head.some((h) => h) ? `<thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead>` : '';
    return `<table>${headRow}<tbody>\n${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n')}\n</tbody></table>\n`;
  },
  heading: (level, safe) => `<h${level}>${safe}</h${level}>\n`,
  para: (safe) => `<p>${safe}</p>\n`,
  empty: (safe) => `<p class="empty">${safe}</p>\n`,
  details: (summary, body) => `<details><summary>${summary}</summary>\n${body}</details>\n`,
  footer: (safe) => `<hr><footer>${safe}</footer>\n`,
  chart: (c) => `<figure>${c.svg}</figure>\n`,
};

const CSS = `body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1f2328;max-width:1100px;margin:2em auto;padding:0 1em}
h1{font-size:1.6em;border-bottom:1px solid #d0d7de;padding-bottom:.3em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0;display:block;overflow-x:auto}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#eff1f3;padding:1px 4px;border-radius:4px}
pre{background:#f6f8fa;padding:12px;overflow-x:auto;border-radius:6px}pre code{background:none;padding:0}
figure{margin:1em 0}figure svg{max-width:100%;height:auto;border:1px solid #d0d7de;border-radius:6px}
.empty{color:#656d76}footer{color:#656d76;font-size:.9em}summary{cursor:pointer}`;

/** The whole page around the report's body. */
export function htmlPage(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}</body>
</html>
`;
}
