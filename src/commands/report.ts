import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config.js';
import { RunNotFoundError, UsageError } from '../errors.js';
import { openRunStore } from '../state/open-store.js';
import { renderRunReport } from '../ui/report.js';
import type { CommonOptions } from './options.js';

/** Options of `migrate report`. */
export interface ReportCommandOptions extends CommonOptions {
  /** --out: write the report to this file instead of stdout. */
  file?: string | undefined;
  now?: () => Date;
}

/** `migrate report RUN [--out FILE]`: the run's audit trail as Markdown. */
export async function reportCommand(run: string, o: ReportCommandOptions): Promise<number> {
  const config = await loadConfig({ cwd: o.cwd, configPath: o.config, stateDir: o.stateDir });
  const state = await openRunStore(config).read(run); // the file store, or the shared one the config names
  if (!state) throw new RunNotFoundError(run);
  const markdown = renderRunReport(state, { generatedAt: (o.now ?? (() => new Date()))() });
  if (!o.file) {
    o.out.write(markdown);
    return 0;
  }
  const file = path.resolve(o.cwd, o.file);
  try {
    await writeFile(file, markdown);
  } catch (err) {
    throw new UsageError(`--out ${o.file}: cannot write: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  o.out.write(`wrote the report of run ${run} to ${o.file}\n`);
  return 0;
}
