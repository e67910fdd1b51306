// Figures a reliability test reports: one row of the table the suite prints at the end
// (test/reliability/table-reporter.ts). A test attaches them to its own task's meta, which
// vitest hands to reporters; rows of the same name are added up across tests.
import type { TestContext } from 'vitest';

/** One row: its name, and its cells in the order they are printed. */
export interface Figure {
  row: string;
  cells: [label: string, value: number | string][];
}

declare module 'vitest' {
  interface TaskMeta {
    figure?: Figure;
  }
}

/** Attaches the row to the running test; call it before asserting, so a failing test still reports. */
export function report(ctx: TestContext, row: string, cells: Record<string, number | string>): void {
  ctx.task.meta.figure = { row, cells: Object.entries(cells) };
}
