import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config.js';
import { RunNotFoundError, UsageError } from '../errors.js';
import { openRunStore } from '../state/open-store.js';
import { renderRunReport } from '../ui/report.js';
import { reportCharts } from '../ui/report-charts.js';
import { htmlFormat, htmlPage } from '../ui/report-html.js';
import type { CommonOptions } from './options.js';

/** Options of `migrate report`. */
export interface ReportCommandOptions extends CommonOptions {
  /** --out: write the report to this file instead of stdout. */
  file?: string | undefined;
  /** --format: Markdown (default) or one self-contained HTML page. */
  format?: 'markdown' | 'html' | undefined;
  now?: () => Date;
}

/**
 * `migrate report RUN [--format html] [--out FILE]`: the run's audit trail. Markdown written to a
 * file gets its charts as SVG files beside it, linked by relative path (GitHub strips inline SVG
 * and data: images from Markdown); HTML carries them inline.
 */
export async function reportCommand(run: string, o: ReportCommandOptions): Promise<number> {
  const config = await loadConfig({ cwd: o.cwd, configPath: o.config, stateDir: o.stateDir });
  const state = await openRunStore(config).read(run); // the file store, or the shared one the config names
  if (!state) throw new RunNotFoundError(run);
  const generatedAt = (o.now ?? (() => new Date()))();
  if (o.format === 'html') {
    const html = htmlPage(`Run ${state.name}`, renderRunReport(state, { generatedAt, format: htmlFormat }));
    return o.file ? write(o, [[o.file, html]], run) : (o.out.write(html), 0);
  }
  if (!o.file) {
    o.out.write(renderRunReport(state, { generatedAt }));
    return 0;
  }
  // report.md -> report-drained-lag.svg beside it.
  const base = path.basename(o.file, path.extname(o.file));
  const chartFile = (id: string) => `${base}-${id}.svg`;
  const markdown = renderRunReport(state, { generatedAt, chartFile: (c) => chartFile(c.id) });
  const charts = reportCharts(state).map((c): [string, string] => [path.join(path.dirname(o.file as string), chartFile(c.id)), c.svg]);
  return write(o, [[o.file, markdown], ...charts], run);
}

async function write(o: ReportCommandOptions, files: [string, string][], run: string): Promise<number> {
  for (const [file, text] of files) {
    try {
      await writeFile(path.resolve(o.cwd, file), text);
    } catch (err) {
      throw new UsageError(`--out ${file}: cannot write: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const charts = files.length - 1;
  o.out.write(`wrote the report of run ${run} to ${files[0]?.[0]}${charts ? ` and ${charts} chart${charts === 1 ? '' : 's'} beside it (${files.slice(1).map(([f]) => path.basename(f)).join(', ')})` : ''}\n`);
  return 0;
}
